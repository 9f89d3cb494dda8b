import crypto from 'node:crypto';
import type { Knex } from 'knex';
import type pg from 'pg';
import { BoundedMap } from '../bounded-map';

const names = new BoundedMap<string, string>(1_000);

/** A statement as PostgreSQL gets it: its name, and its text with numbered parameters. */
interface Statement {
  name: string;
  text: string;
}

const statements = new BoundedMap<string, Statement>(1_000);

/** What prepared() needs of Knex's client: its connections (a transaction's own, if it is one). */
interface ConnectionSource {
  acquireConnection(): Promise<pg.ClientBase>;
  releaseConnection(connection: pg.ClientBase): Promise<unknown>;
}

/**
 * A query as a named prepared statement: PostgreSQL parses and plans it once per connection
 * instead of on every page (planning the search page's query cost about a millisecond, more
 * than reading the page of the queue). Only for SQL that names its columns (a `*` would break
 * once a migration adds one: "cached plan must not change result type") and whose best plan
 * cannot depend on the values bound, since the plan is kept whatever they are: a filter on a
 * skewed column (a technician with three tickets among a million) comes here only when an
 * index answers it as well for any value (see the queue's pageQuery).
 *
 * The SQL has a `?` for each value, as in `db.raw`, and nothing else of Knex's binding syntax.
 * It is sent on one of Knex's connections (the transaction's, when `db` is one) without Knex's
 * query builder and runner: these statements are the ones every page runs (the user of the
 * session, the queue's and the search's pages, a ticket's), and building and running each
 * through Knex cost the server about as much as reading its answer.
 */
export async function prepared<Row = pg.QueryResultRow>(
  db: Knex | Knex.Transaction,
  sql: string,
  bindings: readonly unknown[],
): Promise<{ rows: Row[] }> {
  const { name, text } = statements.remember(sql, statementOf);
  const source = db.client as unknown as ConnectionSource;
  const connection = await source.acquireConnection();
  try {
    const result = await connection.query({ name, text, values: bindings as unknown[] });
    return result as { rows: Row[] };
  } finally {
    void source.releaseConnection(connection);
  }
}

/** The statement for SQL written with `?` for its values. */
function statementOf(sql: string): Statement {
  if (sql.includes('??') || sql.includes('\\?')) {
    throw new Error('prepared() takes a ? for each value, and no other binding syntax');
  }
  let n = 0;
  return { name: nameOf(sql), text: sql.replace(/\?/g, () => `$${++n}`) };
}

const nameOf = (sql: string) =>
  `guichet_${crypto.createHash('sha1').update(sql).digest('hex').slice(0, 24)}`;

/** The name of a prepared statement, made from its SQL: the same on every connection. */
export function statementName(sql: string): string {
  return names.remember(sql, nameOf);
}
