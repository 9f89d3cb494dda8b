import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { hashPassword } from '../../src/auth/passwords';
import * as users from '../../src/users/users.repo';

export const DEFAULT_PASSWORD = 'correct-horse-battery';

let hashed: Promise<string> | null = null;

export interface TestUser extends users.User {
  password: string;
}

/** A unique user; all share one password hash to keep the suite fast. */
export async function createUser(
  db: Knex,
  over: Partial<Pick<users.User, 'name' | 'email' | 'role' | 'locale' | 'active'>> = {},
): Promise<TestUser> {
  hashed ??= hashPassword(DEFAULT_PASSWORD);
  const n = crypto.randomBytes(4).toString('hex');
  const role = over.role ?? 'employee';
  let user = await users.insertUser(db, {
    email: over.email ?? `${role}-${n}@example.com`,
    name: over.name ?? `${role} ${n}`,
    role,
    locale: over.locale ?? null,
    passwordHash: await hashed,
  });
  if (over.active === false) user = await users.updateUser(db, user.id, { active: false });
  return { ...user, password: DEFAULT_PASSWORD };
}
