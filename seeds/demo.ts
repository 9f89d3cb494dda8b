/**
 * Demo data for evaluation and development: an admin, two technicians, four employees (all
 * with the password below) and the usual helpdesk categories. Run it with `npm run seed:demo`.
 *
 * Idempotent: rows are matched case-insensitively on email (users) and name (categories), so
 * a second run updates them in place instead of adding copies. Never run it on a production
 * database: everyone could log in with the printed password.
 *
 * Like a migration, a seed is frozen: it imports no application code.
 */
import { Algorithm, hash, verify } from '@node-rs/argon2';
import type { Knex } from 'knex';

const DEMO_PASSWORD = 'guichet-demo';

// The same argon2id settings as the application (OWASP's baseline: 19 MiB, 2 passes, 1 lane).
const ARGON2_OPTIONS = {
  algorithm: Algorithm.Argon2id,
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
};

/** Serialises concurrent runs of this seed, which match rows before inserting them. */
const DEMO_SEED_LOCK_KEY = 4_711_202_690;

type Role = 'employee' | 'technician' | 'admin';

interface DemoUser {
  email: string;
  name: string;
  role: Role;
  locale: 'fr' | 'en';
}

const USERS: DemoUser[] = [
  { email: 'admin@demo.guichet.local', name: 'Claire Dubois', role: 'admin', locale: 'fr' },
  {
    email: 'julien.moreau@demo.guichet.local',
    name: 'Julien Moreau',
    role: 'technician',
    locale: 'fr',
  },
  {
    email: 'sophie.lefevre@demo.guichet.local',
    name: 'Sophie Lefèvre',
    role: 'technician',
    locale: 'en',
  },
  {
    email: 'camille.martin@demo.guichet.local',
    name: 'Camille Martin',
    role: 'employee',
    locale: 'fr',
  },
  {
    email: 'thomas.girard@demo.guichet.local',
    name: 'Thomas Girard',
    role: 'employee',
    locale: 'fr',
  },
  {
    email: 'nathalie.bonnet@demo.guichet.local',
    name: 'Nathalie Bonnet',
    role: 'employee',
    locale: 'en',
  },
  {
    email: 'karim.benali@demo.guichet.local',
    name: 'Karim Benali',
    role: 'employee',
    locale: 'fr',
  },
];

interface DemoCategory {
  name: string;
  /** Email of the technician who gets new tickets of this category, if any. */
  defaultAssignee: string | null;
}

const CATEGORIES: DemoCategory[] = [
  { name: 'Poste de travail', defaultAssignee: 'julien.moreau@demo.guichet.local' },
  { name: 'Réseau & VPN', defaultAssignee: 'sophie.lefevre@demo.guichet.local' },
  { name: 'Messagerie', defaultAssignee: 'sophie.lefevre@demo.guichet.local' },
  { name: 'Imprimantes', defaultAssignee: 'julien.moreau@demo.guichet.local' },
  { name: 'Logiciels', defaultAssignee: null },
  { name: 'Comptes & accès', defaultAssignee: null },
];

interface UserRow {
  id: number | string;
  name: string;
  role: Role;
  locale: string | null;
  active: boolean;
  password_hash: string | null;
}

interface CategoryRow {
  id: number | string;
  position: number;
  active: boolean;
  default_assignee_id: number | string | null;
}

async function passwordMatches(stored: string | null): Promise<boolean> {
  if (!stored) return false;
  return verify(stored, DEMO_PASSWORD).catch(() => false);
}

/** Inserts or updates one demo user; returns its id and what happened. */
async function upsertUser(
  trx: Knex.Transaction,
  user: DemoUser,
): Promise<{ id: number; action: 'created' | 'updated' | 'unchanged' }> {
  // users.email has a unique index on lower(email), an expression ON CONFLICT cannot name.
  const existing = await trx<UserRow>('users')
    .select('id', 'name', 'role', 'locale', 'active', 'password_hash')
    .whereRaw('lower(email) = lower(?)', [user.email])
    .first();

  if (!existing) {
    const [row] = await trx('users')
      .insert({
        email: user.email,
        name: user.name,
        role: user.role,
        locale: user.locale,
        active: true,
        password_hash: await hash(DEMO_PASSWORD, ARGON2_OPTIONS),
      })
      .returning('id');
    return { id: Number(row.id), action: 'created' };
  }

  // Rehash only when needed, so that a second run leaves the rows untouched.
  const changes: Record<string, unknown> = {};
  if (existing.name !== user.name) changes.name = user.name;
  if (existing.role !== user.role) changes.role = user.role;
  if (existing.locale !== user.locale) changes.locale = user.locale;
  if (!existing.active) changes.active = true;
  if (!(await passwordMatches(existing.password_hash))) {
    changes.password_hash = await hash(DEMO_PASSWORD, ARGON2_OPTIONS);
  }
  if (Object.keys(changes).length === 0) return { id: Number(existing.id), action: 'unchanged' };
  await trx('users')
    .where({ id: existing.id })
    .update({ ...changes, updated_at: trx.fn.now() });
  return { id: Number(existing.id), action: 'updated' };
}

async function upsertCategory(
  trx: Knex.Transaction,
  category: DemoCategory,
  position: number,
  defaultAssigneeId: number | null,
): Promise<'created' | 'updated' | 'unchanged'> {
  // categories.name is unique on lower(name): same reason as for users.
  const existing = await trx<CategoryRow>('categories')
    .select('id', 'position', 'active', 'default_assignee_id')
    .whereRaw('lower(name) = lower(?)', [category.name])
    .first();

  if (!existing) {
    await trx('categories').insert({
      name: category.name,
      position,
      active: true,
      default_assignee_id: defaultAssigneeId,
    });
    return 'created';
  }

  const currentAssignee =
    existing.default_assignee_id === null ? null : Number(existing.default_assignee_id);
  if (existing.position === position && existing.active && currentAssignee === defaultAssigneeId) {
    return 'unchanged';
  }
  await trx('categories').where({ id: existing.id }).update({
    position,
    active: true,
    default_assignee_id: defaultAssigneeId,
    updated_at: trx.fn.now(),
  });
  return 'updated';
}

function printLogins(results: Map<string, string>): void {
  const header = ['Role', 'Name', 'Email (login)', 'Locale', 'This run'];
  const rows = USERS.map((u) => [u.role, u.name, u.email, u.locale, results.get(u.email) ?? '']);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    `  ${cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd()}\n`;

  let out = '\nDemo accounts\n\n';
  out += line(header);
  out += line(widths.map((w) => '-'.repeat(w)));
  for (const r of rows) out += line(r);
  out += `\n  Password for every account: ${DEMO_PASSWORD}\n\n`;
  process.stdout.write(out);
}

export async function seed(knex: Knex): Promise<void> {
  const results = new Map<string, string>();
  const categoryCounts = { created: 0, updated: 0, unchanged: 0 };

  await knex.transaction(async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(?)', [DEMO_SEED_LOCK_KEY]);

    const ids = new Map<string, number>();
    for (const user of USERS) {
      const { id, action } = await upsertUser(trx, user);
      ids.set(user.email, id);
      results.set(user.email, action);
    }

    for (const [index, category] of CATEGORIES.entries()) {
      const assigneeId = category.defaultAssignee
        ? (ids.get(category.defaultAssignee) ?? null)
        : null;
      const action = await upsertCategory(trx, category, index + 1, assigneeId);
      categoryCounts[action] += 1;
    }
  });

  printLogins(results);
  process.stdout.write(
    `Categories: ${categoryCounts.created} created, ${categoryCounts.updated} updated, ` +
      `${categoryCounts.unchanged} unchanged (${CATEGORIES.map((c) => c.name).join(', ')})\n`,
  );
}
