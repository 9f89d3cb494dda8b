import knex, { type Knex } from 'knex';
import pg from 'pg';

export type Db = Knex;

// Return bigint ids and counts as numbers: ids stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export function createDb(
  connectionString: string,
  opts: {
    ssl?: boolean | { rejectUnauthorized: boolean };
    poolMax?: number;
    /** Where Knex's own warnings go (a lost connection…); silent when omitted. */
    log?: (message: string) => void;
  } = {},
): Knex {
  const log = opts.log ?? (() => undefined);
  return knex({
    client: 'pg',
    connection: { connectionString, ssl: opts.ssl || undefined },
    pool: { min: 0, max: opts.poolMax ?? 10, idleTimeoutMillis: 30000 },
    acquireConnectionTimeout: 5000,
    log: {
      warn: (m: unknown) => log(String(m)),
      error: (m: unknown) => log(String(m)),
      deprecate: (m: unknown) => log(String(m)),
      debug: () => undefined,
    },
  });
}
