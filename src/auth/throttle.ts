import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';

export interface ThrottleRules {
  /** Failed attempts allowed per account before it is blocked. */
  perAccount: number;
  /** Failed attempts allowed per client address before it is blocked. */
  perAddress: number;
  windowSeconds: number;
  blockSeconds: number;
}

export const DEFAULT_LOGIN_RULES: ThrottleRules = {
  perAccount: 5,
  perAddress: 50,
  windowSeconds: 15 * 60,
  blockSeconds: 15 * 60,
};

/**
 * Counts failures per key in PostgreSQL (table `rate_limits`), so every app process sees the
 * same counters. `check` says how long to wait; `fail` counts a failure; `reset` clears an
 * account after a success.
 */
export class Throttle {
  private readonly byAccount: RateLimiterPostgres;
  private readonly byAddress: RateLimiterPostgres;

  constructor(db: Knex, name: string, rules: ThrottleRules = DEFAULT_LOGIN_RULES) {
    const common = {
      storeClient: db,
      storeType: 'knex',
      tableName: 'rate_limits',
      tableCreated: true,
      clearExpiredByTimeout: false,
      duration: rules.windowSeconds,
      blockDuration: rules.blockSeconds,
    };
    this.byAccount = new RateLimiterPostgres({
      ...common,
      keyPrefix: `${name}:account`,
      points: rules.perAccount,
    });
    this.byAddress = new RateLimiterPostgres({
      ...common,
      keyPrefix: `${name}:address`,
      points: rules.perAddress,
    });
  }

  /** Seconds to wait before trying again, or 0 when allowed. */
  async check(account: string, address: string): Promise<number> {
    const [a, b] = await Promise.all([
      this.byAccount.get(keyOf(account.toLowerCase())),
      this.byAddress.get(keyOf(address)),
    ]);
    const blocked = [
      [a, this.byAccount.points],
      [b, this.byAddress.points],
    ] as const;
    let wait = 0;
    for (const [res, points] of blocked) {
      if (res && res.consumedPoints >= points) wait = Math.max(wait, res.msBeforeNext / 1000);
    }
    return Math.ceil(wait);
  }

  async fail(account: string, address: string): Promise<void> {
    await Promise.all([
      this.byAccount.consume(keyOf(account.toLowerCase())).catch(rethrowUnlessLimited),
      this.byAddress.consume(keyOf(address)).catch(rethrowUnlessLimited),
    ]);
  }

  async reset(account: string): Promise<void> {
    await this.byAccount.delete(keyOf(account.toLowerCase()));
  }
}

/**
 * The counter's key: the value itself, readable in the table, unless it is long (an email may
 * have 254 characters, a forwarded address anything), since `rate_limits.key` holds 255 with
 * its prefix: then a hash of it.
 */
function keyOf(value: string): string {
  return value.length <= 100
    ? value
    : `sha256:${crypto.createHash('sha256').update(value).digest('hex')}`;
}

function rethrowUnlessLimited(err: unknown): void {
  if (!(err instanceof RateLimiterRes)) throw err;
}
