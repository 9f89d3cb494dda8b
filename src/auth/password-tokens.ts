import crypto from 'node:crypto';
import type { Knex } from 'knex';

export type TokenPurpose = 'invite' | 'reset';

/** A reset link is short-lived: whoever reads the mailbox later should find it dead. */
export const RESET_TOKEN_TTL_HOURS = 1;
/** An invitation waits for a newcomer who may not read their email the same day. */
export const INVITE_TOKEN_TTL_HOURS = 7 * 24;

export const TOKEN_TTL_HOURS: Record<TokenPurpose, number> = {
  invite: INVITE_TOKEN_TTL_HOURS,
  reset: RESET_TOKEN_TTL_HOURS,
};

/** 32 random bytes in base64url: exactly 43 characters. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

type Db = Knex | Knex.Transaction;

interface TokenRow {
  id: number;
  user_id: number;
  purpose: TokenPurpose;
  expires_at: Date;
  used_at: Date | null;
}

export interface UsableToken {
  id: number;
  userId: number;
  purpose: TokenPurpose;
  expiresAt: Date;
}

/** Only the hash is stored: a copy of the database does not give working links. */
const hashToken = (token: string) => crypto.createHash('sha256').update(token).digest('hex');

/** Whether a string can be a token at all (so junk never reaches the database). */
export function isWellFormed(token: unknown): token is string {
  return typeof token === 'string' && TOKEN_SHAPE.test(token);
}

/**
 * Creates a token for a user and returns it in clear, once. The user's older unused tokens of
 * the same purpose stop working: only the latest email's link is valid.
 */
export async function issueToken(
  trx: Knex.Transaction,
  userId: number,
  purpose: TokenPurpose,
  now: Date,
): Promise<{ token: string; expiresAt: Date }> {
  // Two requests at once would otherwise both leave a valid token behind.
  await trx('users').where({ id: userId }).forUpdate().first('id');
  await expireUnused(trx, userId, now, purpose);
  const token = crypto.randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + TOKEN_TTL_HOURS[purpose] * 3600 * 1000);
  await trx('password_tokens').insert({
    user_id: userId,
    token_hash: hashToken(token),
    purpose,
    expires_at: expiresAt,
  });
  return { token, expiresAt };
}

function usable(db: Db, token: string, now: Date) {
  return db('password_tokens as pt')
    .join('users as u', 'u.id', 'pt.user_id')
    .where('pt.token_hash', hashToken(token))
    .whereNull('pt.used_at')
    .where('pt.expires_at', '>', now)
    .where('u.active', true)
    .first<TokenRow | undefined>(
      'pt.id',
      'pt.user_id',
      'pt.purpose',
      'pt.expires_at',
      'pt.used_at',
    );
}

const toUsable = (r: TokenRow): UsableToken => ({
  id: r.id,
  userId: r.user_id,
  purpose: r.purpose,
  expiresAt: r.expires_at,
});

/** The token's user and purpose when it is unused, unexpired and its user active; else null. */
export async function findUsable(db: Db, token: unknown, now: Date): Promise<UsableToken | null> {
  if (!isWellFormed(token)) return null;
  const row = await usable(db, token, now);
  return row ? toUsable(row) : null;
}

/**
 * Uses a token up, in the caller's transaction. The row is locked first, so of two requests
 * with the same link only one gets it; the other waits, then finds it used and gets null.
 */
export async function consume(
  trx: Knex.Transaction,
  token: unknown,
  now: Date,
): Promise<UsableToken | null> {
  if (!isWellFormed(token)) return null;
  const locked = await trx('password_tokens')
    .where({ token_hash: hashToken(token) })
    .forUpdate()
    .first('id');
  if (!locked) return null;
  const row = await usable(trx, token, now);
  if (!row) return null;
  await trx('password_tokens').where({ id: row.id }).update({ used_at: now });
  return toUsable(row);
}

/** Ends a user's outstanding links (all purposes unless one is given). */
export async function expireUnused(
  db: Db,
  userId: number,
  now: Date,
  purpose?: TokenPurpose,
): Promise<void> {
  const q = db('password_tokens')
    .where({ user_id: userId })
    .whereNull('used_at')
    .where('expires_at', '>', now);
  if (purpose) q.where({ purpose });
  await q.update({ expires_at: now });
}
