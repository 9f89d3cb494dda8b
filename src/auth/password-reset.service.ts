import type { Knex } from 'knex';
import type { Locale } from '../config';
import { AppError, NotFound } from '../http/errors';
import type { Outbox } from '../notifications/outbox';
import * as users from '../users/users.repo';
import { hashPassword } from './passwords';
import * as tokens from './password-tokens';

/** What sending an account link needs: the outbox, APP_URL, the fallback language, a clock. */
export interface AccountLinkDeps {
  outbox: Outbox;
  baseUrl: string;
  defaultLocale: Locale;
  /** EMAIL_ENABLED: without email, accounts need an initial password. */
  emailEnabled: boolean;
  clock: () => Date;
}

export class InvitationNotNeeded extends AppError {
  constructor() {
    super(422, 'users.invite.not_needed');
  }
}

/** The link in invitation and reset emails (DESIGN.md §6). */
export function passwordLink(baseUrl: string, token: string): string {
  return `${baseUrl}/password/reset/${token}`;
}

async function sendLink(
  trx: Knex.Transaction,
  deps: AccountLinkDeps,
  user: users.User,
  purpose: tokens.TokenPurpose,
): Promise<void> {
  const { token } = await tokens.issueToken(trx, user.id, purpose, deps.clock());
  await deps.outbox.queueAccountEmail(trx, {
    to: {
      id: user.id,
      email: user.email,
      name: user.name,
      locale: user.locale ?? deps.defaultLocale,
    },
    kind: purpose === 'invite' ? 'invitation' : 'password_reset',
    link: passwordLink(deps.baseUrl, token),
    expiresHours: tokens.TOKEN_TTL_HOURS[purpose],
  });
}

/** Queues an invitation to choose a password, in the transaction that created the user. */
export function sendInvitation(
  trx: Knex.Transaction,
  deps: AccountLinkDeps,
  user: users.User,
): Promise<void> {
  return sendLink(trx, deps, user, 'invite');
}

/** Sends a new invitation to an active user who has not chosen a password yet. */
export async function resendInvitation(
  db: Knex,
  deps: AccountLinkDeps,
  userId: number,
): Promise<users.User> {
  return db.transaction(async (trx) => {
    const user = await users.findById(trx, userId);
    if (!user) throw new NotFound();
    if (user.passwordHash || !user.active) throw new InvitationNotNeeded();
    await sendLink(trx, deps, user, 'invite');
    return user;
  });
}

/**
 * Sends a reset link when the address belongs to an active account and does nothing
 * otherwise; the caller answers the same either way.
 */
export async function requestPasswordReset(
  db: Knex,
  deps: AccountLinkDeps,
  email: string,
): Promise<void> {
  const user = await users.findByEmail(db, email);
  if (!user || !user.active) return;
  await db.transaction((trx) => sendLink(trx, deps, user, 'reset'));
}

/** The user a reset or invitation link is for, while the link still works. */
export async function findLinkUser(
  db: Knex,
  token: unknown,
  now: Date,
): Promise<{ user: users.User; purpose: tokens.TokenPurpose } | null> {
  const found = await tokens.findUsable(db, token, now);
  if (!found) return null;
  const user = await users.findById(db, found.userId);
  return user ? { user, purpose: found.purpose } : null;
}

/**
 * Sets the password chosen through a link: uses the token up, ends every session of the user
 * (whoever holds them) and every other outstanding link. Returns null when the link no longer
 * works, for instance because another tab used it first.
 */
export async function resetPassword(
  db: Knex,
  clock: () => Date,
  token: string,
  password: string,
): Promise<users.User | null> {
  if (!tokens.isWellFormed(token)) return null;
  // Hashing takes tens of milliseconds: done before the transaction so it holds no lock meanwhile.
  const passwordHash = await hashPassword(password);
  return db.transaction(async (trx) => {
    const now = clock();
    const used = await tokens.consume(trx, token, now);
    if (!used) return null;
    const user = await users.updateUser(trx, used.userId, { passwordHash, lastLoginAt: now });
    await tokens.expireUnused(trx, user.id, now);
    await users.deleteSessions(trx, user.id);
    return user;
  });
}
