import type { Knex } from 'knex';
import type { Locale } from '../config';
import { Conflict, isUniqueViolation } from '../http/errors';
import { prepared } from '../db/prepared';
import { sharedDataChanged } from '../shared-cache';

export const ROLES = ['employee', 'technician', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface User {
  id: number;
  email: string;
  name: string;
  role: Role;
  locale: Locale | null;
  active: boolean;
  passwordHash: string | null;
  lastLoginAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

interface UserRow {
  id: number;
  email: string;
  name: string;
  role: Role;
  locale: Locale | null;
  active: boolean;
  password_hash: string | null;
  last_login_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const toUser = (r: UserRow): User => ({
  id: r.id,
  email: r.email,
  name: r.name,
  role: r.role,
  locale: r.locale,
  active: r.active,
  passwordHash: r.password_hash,
  lastLoginAt: r.last_login_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

type Db = Knex | Knex.Transaction;

export async function findById(db: Db, id: number): Promise<User | null> {
  const row = await db<UserRow>('users').where({ id }).first();
  return row ? toUser(row) : null;
}

/**
 * The account a session names, read on every request: what pages show of it, and only while
 * it is active. Plain SQL, as the session row is read: a query builder here costs more than
 * the query.
 */
export async function findSessionUser(db: Db, id: number): Promise<Express.User | null> {
  const result = await prepared(
    db,
    'select id, email, name, role, locale from users where id = ? and active limit 1',
    [id],
  );
  return (result.rows[0] as Express.User | undefined) ?? null;
}

export async function findByEmail(db: Db, email: string): Promise<User | null> {
  const row = await db<UserRow>('users').whereRaw('lower(email) = lower(?)', [email]).first();
  return row ? toUser(row) : null;
}

export async function countUsers(db: Db): Promise<number> {
  const row = await db('users').count<{ count: number }[]>('* as count').first();
  return Number(row?.count ?? 0);
}

export async function countActiveAdmins(db: Db, lock = false): Promise<number> {
  const q = db('users').where({ role: 'admin', active: true }).select('id');
  const rows = lock ? await q.forUpdate() : await q;
  return rows.length;
}

export interface NewUser {
  email: string;
  name: string;
  role: Role;
  locale?: Locale | null;
  passwordHash: string | null;
}

export async function insertUser(db: Db, u: NewUser): Promise<User> {
  try {
    const [row] = await db<UserRow>('users')
      .insert({
        email: u.email,
        name: u.name,
        role: u.role,
        locale: u.locale ?? null,
        password_hash: u.passwordHash,
      })
      .returning('*');
    sharedDataChanged(db);
    return toUser(row);
  } catch (err) {
    if (isUniqueViolation(err)) throw new Conflict('users.errors.email_taken');
    throw err;
  }
}

export interface UserChanges {
  email?: string;
  name?: string;
  role?: Role;
  locale?: Locale | null;
  active?: boolean;
  passwordHash?: string | null;
  lastLoginAt?: Date;
}

export async function updateUser(db: Db, id: number, c: UserChanges): Promise<User> {
  const patch: Partial<UserRow> & { updated_at?: Date } = {};
  if (c.email !== undefined) patch.email = c.email;
  if (c.name !== undefined) patch.name = c.name;
  if (c.role !== undefined) patch.role = c.role;
  if (c.locale !== undefined) patch.locale = c.locale;
  if (c.active !== undefined) patch.active = c.active;
  if (c.passwordHash !== undefined) patch.password_hash = c.passwordHash;
  if (c.lastLoginAt !== undefined) patch.last_login_at = c.lastLoginAt;
  try {
    const [row] = await db<UserRow>('users')
      .where({ id })
      .update({ ...patch, updated_at: db.fn.now() as unknown as Date })
      .returning('*');
    // Who can be assigned, and the names lists show.
    if (c.name !== undefined || c.role !== undefined || c.active !== undefined)
      sharedDataChanged(db);
    return toUser(row);
  } catch (err) {
    if (isUniqueViolation(err)) throw new Conflict('users.errors.email_taken');
    throw err;
  }
}

export interface UserListFilter {
  q?: string;
  role?: Role;
  active?: boolean;
}

export async function listUsers(db: Db, f: UserListFilter, limit = 200): Promise<User[]> {
  const q = db<UserRow>('users')
    .orderBy([{ column: 'active', order: 'desc' }, 'name', 'id'])
    .limit(limit);
  if (f.role) q.where('role', f.role);
  if (f.active !== undefined) q.where('active', f.active);
  if (f.q) {
    const like = `%${f.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    q.where((w) => w.whereILike('name', like).orWhereILike('email', like));
  }
  return (await q).map(toUser);
}

/** Ends every session of a user, except the one given (the user's current browser). */
export async function deleteSessions(db: Db, userId: number, exceptSid?: string): Promise<number> {
  const q = db('session').whereRaw(`(sess -> 'passport' ->> 'user') = ?`, [String(userId)]);
  if (exceptSid) q.whereNot('sid', exceptSid);
  return q.delete();
}
