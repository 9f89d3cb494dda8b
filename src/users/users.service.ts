import type { Knex } from 'knex';
import type { Locale } from '../config';
import { hashPassword, verifyPassword } from '../auth/passwords';
import { expireUnused } from '../auth/password-tokens';
import { sendInvitation, type AccountLinkDeps } from '../auth/password-reset.service';
import { activation, changes, recordAudit } from '../audit/audit.repo';
import { AppError, NotFound } from '../http/errors';
import * as repo from './users.repo';

export class LastAdminError extends AppError {
  constructor() {
    super(422, 'users.errors.last_admin');
  }
}

export class WrongPasswordError extends AppError {
  constructor() {
    super(422, 'account.errors.wrong_password');
  }
}

interface Actor {
  id: number;
}

/**
 * Creates an account. Without an initial password the user gets an invitation to choose one,
 * queued in the same transaction: the account exists if and only if its invitation does.
 */
export async function createUser(
  db: Knex,
  actor: Actor,
  input: {
    name: string;
    email: string;
    role: repo.Role;
    locale?: Locale | null;
    password?: string;
  },
  links: AccountLinkDeps,
): Promise<repo.User> {
  if (!input.password && !links.emailEnabled) {
    throw new AppError(422, 'users.errors.password_needed_without_email');
  }
  const passwordHash = input.password ? await hashPassword(input.password) : null;
  return db.transaction(async (trx) => {
    const user = await repo.insertUser(trx, {
      email: input.email,
      name: input.name,
      role: input.role,
      locale: input.locale ?? null,
      passwordHash,
    });
    if (!passwordHash) await sendInvitation(trx, links, user);
    await recordAudit(trx, actor.id, [
      { action: 'user.created', subjectType: 'user', subjectId: user.id, to: user.role },
    ]);
    return user;
  });
}

/**
 * Changes a user's profile, role or active flag. The last active admin can be neither
 * demoted nor deactivated; the check and the change share a transaction that locks the
 * admins, so two admins demoting each other at once cannot both succeed.
 */
export async function editUser(
  db: Knex,
  actor: Actor,
  id: number,
  input: { name: string; email: string; role: repo.Role; active: boolean; password?: string },
): Promise<repo.User> {
  const passwordHash = input.password ? await hashPassword(input.password) : undefined;
  return db.transaction(async (trx) => {
    const admins = await trx('users')
      .where({ role: 'admin', active: true })
      .forUpdate()
      .select('id');
    const user = await repo.findById(trx, id);
    if (!user) throw new NotFound();
    const losesAdmin =
      user.role === 'admin' && user.active && (input.role !== 'admin' || !input.active);
    if (losesAdmin && admins.length <= 1) throw new LastAdminError();
    const updated = await repo.updateUser(trx, id, {
      name: input.name,
      email: input.email,
      role: input.role,
      active: input.active,
      passwordHash,
    });
    await recordAudit(trx, actor.id, [
      ...changes('user', id, user, updated, {
        name: 'user.name_changed',
        email: 'user.email_changed',
        role: 'user.role_changed',
      }),
      ...activation('user', id, user, updated),
      ...(passwordHash
        ? [{ action: 'user.password_set' as const, subjectType: 'user' as const, subjectId: id }]
        : []),
    ]);
    if (!input.active && user.active) await repo.deleteSessions(trx, id);
    else if (passwordHash && id !== actor.id) await repo.deleteSessions(trx, id);
    // A link sent to a mistyped address, or to someone who left, must not outlive the fix.
    if (passwordHash || !input.active || updated.email !== user.email) {
      await expireUnused(trx, id, new Date());
    }
    return updated;
  });
}

export async function updateProfile(
  db: Knex,
  actor: Actor,
  input: { name: string; locale: Locale },
): Promise<repo.User> {
  return repo.updateUser(db, actor.id, { name: input.name, locale: input.locale });
}

/** Changes the actor's own password and ends their other sessions. */
export async function changePassword(
  db: Knex,
  actor: Actor,
  input: { currentPassword: string; newPassword: string },
  currentSid: string,
): Promise<void> {
  const user = await repo.findById(db, actor.id);
  if (!user) throw new NotFound();
  if (!(await verifyPassword(user.passwordHash, input.currentPassword))) {
    throw new WrongPasswordError();
  }
  const passwordHash = await hashPassword(input.newPassword);
  await db.transaction(async (trx) => {
    await repo.updateUser(trx, actor.id, { passwordHash });
    await repo.deleteSessions(trx, actor.id, currentSid);
    await expireUnused(trx, actor.id, new Date());
  });
}
