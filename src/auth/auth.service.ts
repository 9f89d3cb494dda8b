import crypto from 'node:crypto';
import type { Knex } from 'knex';
import type { Logger } from '../logger';
import { NotFound } from '../http/errors';
import * as users from '../users/users.repo';
import { hashPassword, verifyPassword } from './passwords';

/** Returns the user when the email and password match an active account. */
export async function authenticate(
  db: Knex,
  email: string,
  password: string,
): Promise<users.User | null> {
  const user = await users.findByEmail(db, email);
  const ok = await verifyPassword(user?.active ? user.passwordHash : null, password);
  if (!user || !user.active || !ok) return null;
  return users.updateUser(db, user.id, { lastLoginAt: new Date() });
}

const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');

/** Serialises first-run work across processes. */
const SETUP_LOCK_KEY = 4_711_202_612;

/**
 * At start-up, with no user yet: creates the first admin from ADMIN_EMAIL/ADMIN_PASSWORD, or
 * prints a one-time URL to the first-run page. Returns that URL, if any.
 */
export async function prepareFirstRun(
  db: Knex,
  opts: { baseUrl: string; firstAdmin: { email: string; password: string } | null },
  logger: Logger,
): Promise<string | null> {
  return db.transaction(async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(?)', [SETUP_LOCK_KEY]);
    if ((await users.countUsers(trx)) > 0) return null;
    if (opts.firstAdmin) {
      const admin = await users.insertUser(trx, {
        email: opts.firstAdmin.email.toLowerCase(),
        name: opts.firstAdmin.email.split('@')[0],
        role: 'admin',
        passwordHash: await hashPassword(opts.firstAdmin.password),
      });
      logger.info({ userId: admin.id }, `First admin ${admin.email} created from ADMIN_EMAIL`);
      return null;
    }
    const token = crypto.randomBytes(24).toString('base64url');
    await trx('setup_tokens').insert({ token_hash: sha256(token) });
    const url = `${opts.baseUrl}/setup?token=${token}`;
    logger.info(`First run: create the first admin account at ${url}`);
    return url;
  });
}

/** The first-run page exists only for a valid token and only while there is no admin. */
export async function assertSetupAllowed(db: Knex, token: unknown): Promise<void> {
  if (typeof token !== 'string' || token.length < 16 || token.length > 200) throw new NotFound();
  const admins = await users.countActiveAdmins(db);
  if (admins > 0) throw new NotFound();
  const row = await db('setup_tokens')
    .where({ token_hash: sha256(token) })
    .first();
  if (!row) throw new NotFound();
}

export async function createFirstAdmin(
  db: Knex,
  token: unknown,
  input: { name: string; email: string; password: string; locale: 'fr' | 'en' },
): Promise<users.User> {
  const passwordHash = await hashPassword(input.password);
  return db.transaction(async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(?)', [SETUP_LOCK_KEY]);
    await assertSetupAllowed(trx as unknown as Knex, token);
    const admin = await users.insertUser(trx, {
      email: input.email,
      name: input.name,
      role: 'admin',
      locale: input.locale,
      passwordHash,
    });
    await trx('setup_tokens').delete();
    return admin;
  });
}
