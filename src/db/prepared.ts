import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { BoundedMap } from '../bounded-map';

const names = new BoundedMap<string, string>(1_000);

/**
 * `db.raw` as a named prepared statement: PostgreSQL parses and plans it once per connection
 * instead of on every page (planning the search page's query cost about a millisecond, more
 * than reading the page of the queue). Only for SQL that names its columns (a `*` would break
 * once a migration adds one: "cached plan must not change result type") and whose best plan
 * cannot depend on the values bound, since the plan is kept whatever they are: a filter on a
 * skewed column (a technician with three tickets among a million) comes here only when an
 * index answers it as well for any value (see the queue's pageQuery).
 */
export function prepared(
  db: Knex | Knex.Transaction,
  sql: string,
  bindings: readonly Knex.RawBinding[],
): Knex.Raw {
  return db.raw(sql, bindings as Knex.RawBinding[]).options({ name: statementName(sql) });
}

const nameOf = (sql: string) =>
  `guichet_${crypto.createHash('sha1').update(sql).digest('hex').slice(0, 24)}`;

/** The name of a prepared statement, made from its SQL: the same on every connection. */
export function statementName(sql: string): string {
  return names.remember(sql, nameOf);
}
