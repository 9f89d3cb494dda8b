import knex, { type Knex } from 'knex';
import pg from 'pg';

export type Db = Knex;

// Return bigint ids and counts as numbers: ids stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export const parseAnyTimestamp = pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ);
const digit = (s: string, i: number) => s.charCodeAt(i) - 48;
const number = (s: string, from: number, length: number) => {
  let n = 0;
  for (let i = from; i < from + length; i++) {
    const d = digit(s, i);
    if (d < 0 || d > 9) return NaN;
    n = n * 10 + d;
  }
  return n;
};

/**
 * PostgreSQL's usual timestamptz text ("2026-11-24 12:40:43.767123+00", "…+05:30") read
 * without regular expressions: a page of the queue reads a hundred of them. Anything else
 * (years before 1000 or after 9999, BC, infinity, offsets with seconds) goes to pg's parser,
 * whose results this matches to the millisecond (truncated).
 */
export function parseTimestamptz(s: string): Date {
  const n = s.length;
  if (n >= 22 && s[4] === '-' && s[7] === '-' && s[10] === ' ' && s[13] === ':' && s[16] === ':') {
    let i = 19;
    let ms = 0;
    if (s[i] === '.') {
      let scale = 100;
      for (i++; i < n && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57; i++) {
        ms += digit(s, i) * scale;
        scale /= 10;
      }
      ms = Math.trunc(ms);
    }
    const sign = s[i] === '+' ? 1 : s[i] === '-' ? -1 : 0;
    const zone =
      n - i === 3
        ? number(s, i + 1, 2) * 60
        : n - i === 6 && s[i + 3] === ':'
          ? number(s, i + 1, 2) * 60 + number(s, i + 4, 2)
          : NaN;
    const year = number(s, 0, 4);
    if (sign && year >= 1000 && !Number.isNaN(zone)) {
      const utc = Date.UTC(
        year,
        number(s, 5, 2) - 1,
        number(s, 8, 2),
        number(s, 11, 2),
        number(s, 14, 2),
        number(s, 17, 2),
        ms,
      );
      if (!Number.isNaN(utc)) return new Date(utc - sign * zone * 60_000);
    }
  }
  return parseAnyTimestamp(s) as Date;
}
pg.types.setTypeParser(pg.types.builtins.TIMESTAMPTZ, parseTimestamptz);

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
