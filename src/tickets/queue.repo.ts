import type { Knex } from 'knex';
import {
  QUEUE_FILTER_OPTION_COLUMNS,
  type QueueFilterOptions,
} from '../categories/categories.repo';
import { prepared } from '../db/prepared';
import { epochMs } from '../db/sql';
import { withFields } from '../objects';
import { SharedCache } from '../shared-cache';
import { instants, type DayRange } from '../dashboard/calendar';
import { excerpts, type Excerpt, type Piece } from './snippets';
import { NAMES_VERSION_SQL, namesOf } from './names.repo';
import { joinNames } from './tickets.repo';
import { STATUSES, type Priority, type Status } from './workflow';

type Db = Knex | Knex.Transaction;

export const SORTS = ['activity', 'created', 'oldest', 'priority', 'relevance'] as const;
export type Sort = (typeof SORTS)[number];

export interface QueueFilter {
  statuses: Status[];
  priority?: Priority;
  /** A category, or null for "no category". */
  categoryId?: number | null;
  /** An id, or the viewer ('me' resolved by the caller), or null for "nobody". */
  assigneeId?: number | null;
  requesterId?: number;
  /** Calendar days in `timeZone`, both ends included: what the dashboard's figures link to. */
  created?: Partial<DayRange>;
  resolved?: Partial<DayRange>;
  /** The first public reply by staff. */
  responded?: Partial<DayRange>;
  timeZone?: string;
  q?: string;
  sort: Sort;
  cursor?: string;
  /** Staff search internal notes too. */
  includeNotes: boolean;
  /** `q` turned into a tsquery by withTsQuery(); set by the functions below. */
  tsquery?: string;
  /** Rows a search reads in order before using the full-text index (tests make it small). */
  searchWindow?: number;
  /** Below this many matches a search goes straight through the index (tests make it small). */
  sparseMatches?: number;
  /** How many of the most recent matches relevance ranks (tests make it small). */
  relevanceWindow?: number;
  /** Share of the tickets a search must match to use the recency index (tests change it). */
  denseShare?: number;
}

/** What a list of tickets shows of each. */
export interface QueueRow {
  id: number;
  title: string;
  status: Status;
  priority: Priority;
  categoryName: string | null;
  requesterName: string;
  assigneeName: string | null;
  createdAt: Date;
  lastActivityAt: Date;
  /** A search's title, the words found marked (escaped by the view). */
  titlePieces: Piece[] | null;
  /** A search's excerpt of the description, the words found marked. */
  snippet: Piece[] | null;
}

/** A list row as read: what the views show, and the extra columns its query asked for. */
interface ListRow extends QueueRow {
  /** Read for a search's excerpt (excerpts). */
  description?: string;
}

/**
 * The columns of a list row, on `tickets as t`: the ids of its names, which come from
 * names.repo.ts (namesOf) rather than from a lookup per row and name.
 */
const LIST_COLUMNS = `t.id, t.title, t.status, t.priority, t.category_id, t.requester_id,
  t.assignee_id, t.created_at, t.last_activity_at`;

/** LIST_COLUMNS as listDocument's columns, in the order its `rows` reads them. */
const LIST_FIELDS = [
  'p.id',
  'p.title',
  'p.status',
  'p.priority',
  'p.category_id',
  'p.requester_id',
  'p.assignee_id',
  epochMs('p.created_at'),
  epochMs('p.last_activity_at'),
];

interface ListDocument {
  /** One array per column, each in the query's order; null when there is no row. */
  columns: (unknown[] | null)[];
  /** The `keysAt` columns of that row; null, or nulls, when there are fewer rows. */
  keys?: (string | null)[] | null;
  names_version: string;
}

/**
 * A query selecting LIST_COLUMNS, then `extra` columns, read as one JSON document: one array
 * per column, each in the query's order (the aggregates of one query read its rows in one
 * sequence, and an aggregate over a sorted subquery keeps its order when the outer query does
 * nothing else: PostgreSQL's manual, "Aggregate Expressions"), and the names version its names
 * are read under. `rows` reads the document back into list rows, as the views show them (no
 * second copy of each row for the page), the extra columns by name.
 *
 * The server's main thread is what limits its throughput, and PostgreSQL has a core to spare:
 * for a page of 51 rows, pg would decode some 500 fields one by one and parse 100 timestamps.
 * Reading the document instead costs the main thread about 0.07 ms less a page (95 against
 * 167 µs). A column per aggregate rather than an array per row: json_agg works out how to
 * write its column's type once, where json_build_array does it again for every value of every
 * row (a queue page's query 0.149 → 0.123 ms, pgbench, one client).
 */
function listDocument<T extends ListRow = ListRow>(
  sql: string,
  extra: readonly string[] = [],
  keysAt?: { columns: readonly string[]; row: number },
) {
  const columns = [...LIST_FIELDS, ...extra.map((c) => `p.${c}`)];
  // A page's cursor is made of its last row's keys: the other rows' are not sent.
  const keys = keysAt
    ? `json_build_array(${keysAt.columns.map((c) => `(array_agg(p.${c}))[${sqlInt(keysAt.row)}]`).join(', ')}) as keys,`
    : '';
  return {
    sql: `select json_build_array(${columns.map((c) => `json_agg(${c})`).join(', ')}) as columns,
      ${keys} ${NAMES_VERSION_SQL} as names_version
      from (${sql}) p`,
    /** The `keysAt` columns of that row (1 is the first), or null when there is no such row. */
    keysAt: (result: { rows: ListDocument[] }): string[] | null => {
      const found = result.rows[0].keys;
      return found?.every((k) => k !== null) ? (found as string[]) : null;
    },
    rows: async (db: Db, result: { rows: ListDocument[] }): Promise<T[]> => {
      const doc = result.rows[0];
      const columns = doc.columns.map((c) => c ?? []);
      const [id, title, status, priority, category, requester, assignee, created, activity] =
        columns as [
          number[],
          string[],
          Status[],
          Priority[],
          (number | null)[],
          number[],
          (number | null)[],
          number[],
          number[],
        ];
      const users: (number | null)[] = [...requester, ...assignee];
      const names = await namesOf(db, doc.names_version, users, category);
      const more = columns.slice(LIST_FIELDS.length);
      return id.map((_, i) => {
        const row: Record<string, unknown> = {
          id: id[i],
          title: title[i],
          status: status[i],
          priority: priority[i],
          categoryName: names.category(category[i]),
          requesterName: names.user(requester[i]),
          assigneeName: assignee[i] === null ? null : names.user(assignee[i]),
          createdAt: new Date(created[i]),
          lastActivityAt: new Date(activity[i]),
          titlePieces: null,
          snippet: null,
        };
        for (let e = 0; e < extra.length; e++) row[extra[e]] = more[e][i];
        return row as unknown as T;
      });
    },
  };
}

/**
 * The list rows of these tickets, in the order of `ids`, with the description when a search's
 * excerpts need it: one prepared statement (its plan, by primary key, fits any ids).
 */
async function rowsInOrder(db: Db, ids: number[], withDescription: boolean): Promise<ListRow[]> {
  const doc = listDocument(
    `select ${LIST_COLUMNS}${withDescription ? ', t.description' : ''}
       from tickets t where t.id = any(?::bigint[])`,
    withDescription ? ['description'] : [],
  );
  const byId = new Map(
    (await doc.rows(db, await prepared(db, doc.sql, [ids]))).map((r) => [r.id, r]),
  );
  return ids.flatMap((id) => byId.get(id) ?? []);
}

/** A search's row: what the views show, its words marked in the title and an excerpt. */
const withExcerpt = (r: ListRow, excerpt: Excerpt): QueueRow => ({
  id: r.id,
  title: r.title,
  status: r.status,
  priority: r.priority,
  categoryName: r.categoryName,
  requesterName: r.requesterName,
  assigneeName: r.assigneeName,
  createdAt: r.createdAt,
  lastActivityAt: r.lastActivityAt,
  titlePieces: excerpt.titlePieces,
  snippet: excerpt.snippet,
});

export interface QueuePage {
  rows: QueueRow[];
  nextCursor: string | null;
}

export const PAGE_SIZE = 50;
/** Relevance pages use an offset, so they stop somewhere: past this, refine the search. */
const MAX_RELEVANCE_OFFSET = 500;
/** Relevance ranks the most recent matches only: a frequent word must not rank 100,000 rows. */
const RELEVANCE_WINDOW = 250;
/** Status tab counts stop counting here and show "99+": past it, a number no longer guides anyone. */
export const COUNT_CAP = 99;

interface Cursor {
  k: string[];
  id: number;
}

const encode = (c: Cursor) => Buffer.from(JSON.stringify(c)).toString('base64url');

const TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/;

/** What each sort's cursor holds; anything else is ignored and paging restarts. */
const CURSOR_SHAPES: Record<Sort, RegExp[]> = {
  activity: [TIMESTAMP],
  created: [TIMESTAMP],
  oldest: [TIMESTAMP],
  priority: [/^[0-3]$/, TIMESTAMP],
  relevance: [/^\d{1,6}$/],
};

function decode(s: string | undefined, sort: Sort): Cursor | null {
  if (!s || s.length > 300) return null;
  try {
    const c = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Cursor;
    const shape = CURSOR_SHAPES[sort];
    if (!Array.isArray(c.k) || c.k.length !== shape.length) return null;
    if (!c.k.every((v, i) => typeof v === 'string' && shape[i].test(v))) return null;
    if (!Number.isSafeInteger(c.id) || c.id < 0) return null;
    return c;
  } catch {
    return null;
  }
}

/**
 * Turns the search text into a tsquery constant before the main query: with a constant the
 * planner uses the column's lexeme statistics, and picks the full-text index for a rare word
 * and the activity order for a frequent one. Through a function call it guesses, and a rare
 * word can cost a walk through the whole table.
 */
export async function withTsQuery<F extends Pick<QueueFilter, 'q' | 'tsquery'>>(
  db: Db,
  f: F,
): Promise<F> {
  if (!f.q || f.tsquery !== undefined) return f;
  const q = f.q;
  const tsquery = await tsQueries.get(q, async () => {
    const row = (await db.raw('select guichet_tsq(?)::text as q', [q])).rows[0] as { q: string };
    return row.q;
  });
  return withFields(f, { tsquery }) as F;
}

/**
 * Searches already turned into a tsquery: the result depends only on the words and the text
 * search configuration, which changes only with a migration (run before the server starts).
 */
const tsQueries = new SharedCache<string, string>({ ttlMs: Infinity, max: 10_000 });

/** One condition of a WHERE clause, with `?` for its values. */
interface Condition {
  sql: string;
  bindings: unknown[];
  /** For `column = ?`: the column. */
  equals?: string;
}

/** The full-text condition alone (on a query whose `t` has the two search vectors). */
function searchCondition(f: Pick<QueueFilter, 'q' | 'tsquery' | 'includeNotes'>): Condition[] {
  if (!f.q) return [];
  // An empty query (only stop words) matches nothing rather than everything.
  const tsq = f.tsquery ?? '';
  if (!tsq) return [{ sql: 'false', bindings: [] }];
  if (!f.includeNotes) return [{ sql: 't.search_vector @@ ?::tsquery', bindings: [tsq] }];
  return [
    {
      sql: '(t.search_vector @@ ?::tsquery or t.notes_vector @@ ?::tsquery)',
      bindings: [tsq, tsq],
    },
  ];
}

/**
 * The filters every list shares (the queue, the tab counts, the CSV export), as plain SQL
 * conditions on `tickets as t`: the queue's common pages are sent as written, without a
 * query builder, and the other paths add them to theirs (applyFilters).
 */
function filterConditions(
  f: Omit<QueueFilter, 'sort' | 'cursor'>,
  opts: { withStatus: boolean } = { withStatus: true },
): Condition[] {
  const out: Condition[] = [];
  const is = (column: string, value: unknown) =>
    out.push(
      value === null
        ? { sql: `${column} is null`, bindings: [] }
        : { sql: `${column} = ?`, bindings: [value], equals: column },
    );
  if (opts.withStatus && f.statuses.length === 1) is('t.status', f.statuses[0]);
  else if (opts.withStatus && f.statuses.length && f.statuses.length < STATUSES.length) {
    out.push({
      sql: `t.status in (${f.statuses.map(() => '?').join(', ')})`,
      bindings: f.statuses,
    });
  }
  if (f.priority) is('t.priority', f.priority);
  if (f.categoryId !== undefined) is('t.category_id', f.categoryId);
  if (f.assigneeId !== undefined) is('t.assignee_id', f.assigneeId);
  if (f.requesterId !== undefined) is('t.requester_id', f.requesterId);
  for (const [key, column] of DATE_COLUMNS) {
    const { from, until } = instants(f[key] ?? {}, f.timeZone ?? 'UTC');
    if (from) out.push({ sql: `${column} >= ?`, bindings: [from] });
    if (until) out.push({ sql: `${column} < ?`, bindings: [until] });
  }
  out.push(...searchCondition(f));
  return out;
}

/** The conditions joined by `and`, for a WHERE clause; `true` when there are none. */
function whereSql(conditions: Condition[]): Condition {
  return {
    sql: conditions.length ? conditions.map((c) => c.sql).join(' and ') : 'true',
    bindings: conditions.flatMap((c) => c.bindings),
  };
}

function applyConditions(q: Knex.QueryBuilder, conditions: Condition[]): Knex.QueryBuilder {
  for (const c of conditions) q.whereRaw(c.sql, c.bindings as Knex.RawBinding[]);
  return q;
}

/** The shared filters added to a query. */
export function applyFilters(
  q: Knex.QueryBuilder,
  f: Omit<QueueFilter, 'sort' | 'cursor'>,
  opts: { withStatus: boolean } = { withStatus: true },
): Knex.QueryBuilder {
  return applyConditions(q, filterConditions(f, opts));
}

const DATE_COLUMNS = [
  ['created', 't.created_at'],
  ['resolved', 't.resolved_at'],
  ['responded', 't.first_response_at'],
] as const;

interface Order {
  /** The sort key columns, as text for the cursor. */
  keys: string[];
  /** Keyset condition for "after this cursor", with ? for the keys then the id. */
  after: string;
  orderBy: string;
  /**
   * Columns with an index on (column, this order's columns): a page filtered by `column = ?`
   * alone is read straight from that index, whatever the value.
   */
  indexedEquals: readonly string[];
}

const ORDERS: Record<Exclude<Sort, 'relevance'>, Order> = {
  activity: {
    keys: ['t.last_activity_at::text'],
    after: '(t.last_activity_at, t.id) < (?::timestamptz, ?)',
    orderBy: 't.last_activity_at desc, t.id desc',
    indexedEquals: ['t.status', 't.priority', 't.category_id', 't.assignee_id', 't.requester_id'],
  },
  created: {
    keys: ['t.created_at::text'],
    after: '(t.created_at, t.id) < (?::timestamptz, ?)',
    orderBy: 't.created_at desc, t.id desc',
    indexedEquals: [],
  },
  oldest: {
    keys: ['t.created_at::text'],
    after: '(t.created_at, t.id) > (?::timestamptz, ?)',
    orderBy: 't.created_at asc, t.id asc',
    indexedEquals: [],
  },
  priority: {
    keys: ['t.priority_rank::text', 't.created_at::text'],
    after: '(t.priority_rank, t.created_at, t.id) > (?::smallint, ?::timestamptz, ?)',
    orderBy: 't.priority_rank asc, t.created_at asc, t.id asc',
    indexedEquals: [],
  },
};

/** Rows of the recent window a search looks through before it falls back on the index. */
const SEARCH_WINDOW = 5000;
/** Below this many matches, a search goes straight through the full-text index. */
const SPARSE_MATCHES = 1000;
/**
 * A search the planner expects to match this many times more than a threshold is taken as
 * frequent without counting (see estimatedMatches); its estimate for a common word is within
 * a factor of two or so.
 */
const FREQUENT_FACTOR = 10;
/**
 * A search the planner expects in at least this share of the tickets reads its most recent
 * matches from the recency index (denseSearch): its scan passes over about 1 / share tickets
 * per match, 12,500 for relevance's 250 at 2 %.
 */
const DENSE_SHARE = 0.02;

interface Keyed {
  id: number;
  k0: string;
  k1?: string;
}

/** The cursor that continues after this row of a keyset order. */
const cursorAfter = (last: Keyed): Cursor => ({
  k: [last.k0, ...(last.k1 ? [last.k1] : [])],
  id: last.id,
});

/** The keyset condition for the rows after the cursor, if there is one. */
const afterCursor = (order: Order, cursor: Cursor | null): Condition[] =>
  cursor ? [{ sql: order.after, bindings: [...cursor.k, cursor.id] }] : [];

/** The filters, then the rows after the cursor, in the order's sequence. */
function inOrder(
  q: Knex.QueryBuilder,
  f: Omit<QueueFilter, 'sort' | 'cursor'>,
  order: Order,
  cursor: Cursor | null,
): Knex.QueryBuilder {
  return applyConditions(q, [...filterConditions(f), ...afterCursor(order, cursor)]).orderByRaw(
    order.orderBy,
  );
}

/** The order's keys selected as k0, k1… (what a cursor is made of). */
const keysSql = (order: Order) => order.keys.map((k, i) => `${k} as k${i}`).join(', ');
const keyColumns = (db: Db, order: Order) => db.raw(keysSql(order));

const hasDateRange = (f: Omit<QueueFilter, 'sort' | 'cursor'>) =>
  DATE_COLUMNS.some(([key]) => f[key]?.from || f[key]?.to);

/** A range of days holding at most this many tickets is read whole and sorted. */
const NARROW_RANGE = 100_000;
/** What the orders' keys and cursors read, all in the date indexes. */
const RANGE_COLUMNS = ['t.id', 't.last_activity_at', 't.created_at', 't.priority_rank'];

/**
 * Whether the filters hold a range of days (the dashboard's links) matching at most
 * NARROW_RANGE tickets, counted from the range's index without ordering.
 */
async function narrowRange(db: Db, f: Omit<QueueFilter, 'sort' | 'cursor'>): Promise<boolean> {
  if (!hasDateRange(f)) return false;
  const sample = applyFilters(db('tickets as t'), f)
    .select(db.raw('1'))
    .limit(NARROW_RANGE + 1);
  const row = (await db.from(sample.as('s')).count<{ n: string }[]>('* as n').first()) as
    { n: string } | undefined;
  return Number(row?.n ?? 0) <= NARROW_RANGE;
}

/** Runs a query with only the full-text (bitmap) path open to the planner. */
function throughIndex<T>(db: Db, work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  return db.transaction(async (trx) => {
    await trx.raw('set local enable_seqscan = off');
    await trx.raw('set local enable_indexscan = off');
    return work(trx);
  }) as Promise<T>;
}

/**
 * How many tickets the planner expects a search to match under the filters: a hint to pick a
 * path, never a figure shown. Counting exactly through the full-text index costs what the
 * matches cost, since a bitmap scan collects all of them before it stops (20 ms for a word in
 * 60,000 of a million tickets), while the estimate costs a plan. The paths it picks are bounded
 * whatever it says: a word wrongly taken as frequent costs one window read (matchingIds).
 */
async function estimatedMatches(
  db: Db,
  f: Omit<QueueFilter, 'sort' | 'cursor'>,
  opts: { withStatus: boolean },
): Promise<number> {
  const where = whereSql(filterConditions(f, opts));
  return estimates.get(JSON.stringify(where), async () => {
    const result = await db.raw(
      `explain (format json) select 1 from tickets t where ${where.sql}`,
      where.bindings as Knex.RawBinding[],
    );
    const plan = (result.rows[0]?.['QUERY PLAN'] as { Plan?: { 'Plan Rows'?: number } }[])?.[0];
    return Number(plan?.Plan?.['Plan Rows'] ?? 0);
  });
}

/**
 * Planner estimates already asked for, for a minute: they move only when the table's
 * statistics do (ANALYZE), and a search is asked for again and again (its pages, its counts,
 * the same words typed by several people).
 */
const estimates = new SharedCache<string, number>({ ttlMs: 60_000, max: 10_000 });

/**
 * Ids of the tickets matching the filters, in the order's sequence after the cursor.
 *
 * A search never leaves the plan to the planner's estimate (a rare word estimated as common
 * would walk the whole table in order): a frequent word (frequentSearch) is looked for among
 * the most recent rows of the order, where it fills the page at once, and the full-text index
 * answers for a rare word or when that window was not enough.
 */
async function matchingIds(
  db: Db,
  f: QueueFilter,
  order: Order,
  cursor: Cursor | null,
  need: number,
): Promise<Keyed[]> {
  if (!f.q) {
    if (!(await narrowRange(db, f))) return inIndexOrder(db, f, order, cursor, need);
    // A few days' tickets: read them all from the range's index, then sort. Walking the order
    // would pass over every newer ticket first (old days have old activity).
    const inRange = inOrder(db('tickets as t'), f, order, cursor)
      .clearOrder()
      .select(RANGE_COLUMNS);
    return db
      .withMaterialized('t', inRange)
      .from('t')
      .select('t.id', keyColumns(db, order))
      .orderByRaw(order.orderBy)
      .limit(need) as unknown as Promise<Keyed[]>;
  }
  if (await frequentSearch(db, f)) {
    const recent = recentMatches(f, order, cursor, need);
    const result = await db.raw(
      `select t.id, ${order.keys.map((_, i) => `t.k${i}`).join(', ')} from (${recent.sql}) t`,
      recent.bindings,
    );
    if (result.rows.length >= need) return result.rows as Keyed[];
  }
  return throughIndex(db, (trx) => inIndexOrder(trx, f, order, cursor, need));
}

/** The first `need` ids of the order after the cursor, as the planner sees fit. */
function inIndexOrder(
  db: Db,
  f: QueueFilter,
  order: Order,
  cursor: Cursor | null,
  need: number,
): Promise<Keyed[]> {
  return inOrder(db('tickets as t'), f, order, cursor)
    .select('t.id', keyColumns(db, order))
    .limit(need) as unknown as Promise<Keyed[]>;
}

/**
 * Whether a search looks through the most recent rows first (a frequent word fills a page
 * there at once) or goes straight through the full-text index (few matches). It first counts
 * the matches through that index, stopping at SPARSE_MATCHES; a word the planner expects in
 * far more tickets than that skips the count (its cost grows with the matches). If the
 * estimate was wrong, the window comes back short and the index answers after all.
 */
async function frequentSearch(db: Db, f: QueueFilter): Promise<boolean> {
  const sparse = f.sparseMatches ?? SPARSE_MATCHES;
  if ((await estimatedMatches(db, f, { withStatus: true })) >= sparse * FREQUENT_FACTOR)
    return true;
  const probe = await throughIndex(db, async (trx) => {
    const sample = applyFilters(trx('tickets as t'), f).select('t.id').limit(SPARSE_MATCHES);
    const row = await trx.from(sample.as('s')).count<{ n: number }[]>('* as n').first();
    return Number(row?.n ?? 0);
  });
  return probe >= sparse;
}

/**
 * The first `need` matches of a search among the most recent rows of the order (SEARCH_WINDOW
 * of them) after the cursor, as a subquery with the order's keys (k0, k1) and what a rank is
 * made of. Plain SQL: the common path of a search.
 */
function recentMatches(
  f: QueueFilter,
  order: Order,
  cursor: Cursor | null,
  need: number,
): { sql: string; bindings: Knex.RawBinding[] } {
  const inWindow = whereSql([
    ...filterConditions(withFields(f, { q: undefined })),
    ...afterCursor(order, cursor),
  ]);
  const matching = whereSql(searchCondition(f));
  return {
    sql: `select t.* from (
        select t.id, ${keysSql(order)}, t.last_activity_at, t.created_at, t.priority_rank,
               t.search_vector, t.notes_vector
          from tickets t where ${inWindow.sql} order by ${order.orderBy}
         limit ${sqlInt(f.searchWindow ?? SEARCH_WINDOW)}
      ) t where ${matching.sql} order by ${order.orderBy} limit ${sqlInt(need)}`,
    bindings: [...inWindow.bindings, ...matching.bindings] as Knex.RawBinding[],
  };
}

/**
 * Whether a search's most recent matches come from the recency index
 * (tickets_recent_search_idx, through guichet_recent_ranked): a word the planner expects in at
 * least DENSE_SHARE of the tickets, with no other filter (their rows would be read only to be
 * dropped) and no excluded word (a word excluded from the description may be in the notes, so
 * the index's joined vectors would miss the ticket).
 */
async function denseSearch(db: Db, f: QueueFilter): Promise<boolean> {
  const tsq = f.tsquery ?? '';
  if (!tsq || tsq.replace(/'(?:[^']|'')*'/g, '').includes('!')) return false;
  const unsearched = withFields(f, { q: undefined });
  if (filterConditions(unsearched).length) return false;
  const all = await estimatedMatches(db, unsearched, { withStatus: true });
  const matches = await estimatedMatches(db, f, { withStatus: true });
  return matches >= all * (f.denseShare ?? DENSE_SHARE);
}

/**
 * A search's rank: with notes, the two ranks added up (ranking the two vectors joined with ||
 * cost six times as much, the join being rebuilt for every row). guichet_recent_ranked ranks
 * the same way: a change here needs a migration that replaces that function too, or frequent
 * words would be ranked differently from the others.
 */
function rankSql(f: QueueFilter): { sql: string; bindings: string[] } {
  const tsq = f.tsquery ?? '';
  return f.includeNotes
    ? {
        sql: 'ts_rank(t.search_vector, ?::tsquery) + ts_rank(t.notes_vector, ?::tsquery)',
        bindings: [tsq, tsq],
      }
    : { sql: 'ts_rank(t.search_vector, ?::tsquery)', bindings: [tsq] };
}

/** A search's rows carry the description its excerpt is taken from. */
const WITH_DESCRIPTION = ['description'];

/**
 * A relevance page: the most recent RELEVANCE_WINDOW matches ranked, with the columns and
 * excerpts of the page's rows only. A word in many tickets, searched alone, is found and
 * ranked by guichet_recent_ranked through the recency index (denseSearch). Otherwise a
 * frequent word is found, ranked and read in one query from the recent window; failing that
 * (or when the window holds fewer matches) the matches' ids come through the full-text index
 * first, then their rows are ranked.
 */
async function relevancePage(db: Db, f: QueueFilter, offset: number): Promise<ListRow[]> {
  const rank = rankSql(f);
  const windowSize = f.relevanceWindow ?? RELEVANCE_WINDOW;
  const page = `order by rank desc, t.id desc offset ${sqlInt(offset)} limit ${PAGE_SIZE + 1}`;
  if (await denseSearch(db, f)) {
    // The most recent matches, ranked by guichet_recent_ranked (its plan, kept per connection,
    // walks the recency index whatever the word), then the page's rows: one prepared statement.
    // Equal activity times come from the index in no set order; the page is ordered by rank,
    // then id.
    const doc = listDocument(
      `select ${LIST_COLUMNS}, t.description from (
         select r.id, r.rank from guichet_recent_ranked(?::tsquery, ?::boolean, ?::integer) r
          order by r.rank desc, r.id desc offset ${sqlInt(offset)} limit ${PAGE_SIZE + 1}
       ) w join tickets t on t.id = w.id order by w.rank desc, w.id desc`,
      WITH_DESCRIPTION,
    );
    return doc.rows(db, await prepared(db, doc.sql, [f.tsquery ?? '', f.includeNotes, windowSize]));
  }
  if (await frequentSearch(db, f)) {
    const recent = recentMatches(f, ORDERS.activity, null, windowSize);
    const doc = listDocument<ListRow & { matches: number }>(
      `select ${LIST_COLUMNS}, t.description, w.matches from (
         select t.id, ${rank.sql} as rank, count(*) over () as matches from (${recent.sql}) t
         ${page}
       ) w join tickets t on t.id = w.id order by w.rank desc, w.id desc`,
      [...WITH_DESCRIPTION, 'matches'],
    );
    const rows = await doc.rows(
      db,
      await pageQuery(db, filterConditions(withFields(f, { q: undefined })), null, doc.sql, [
        ...rank.bindings,
        ...recent.bindings,
      ]),
    );
    if (rows.length && rows[0].matches >= windowSize) return rows;
  }
  const window = await throughIndex(db, (trx) =>
    inIndexOrder(trx, f, ORDERS.activity, null, windowSize),
  );
  const doc = listDocument(
    `select ${LIST_COLUMNS}, t.description, ${rank.sql} as rank from tickets t
      where t.id = any(?::bigint[]) ${page}`,
    WITH_DESCRIPTION,
  );
  return doc.rows(db, await db.raw(doc.sql, [...rank.bindings, window.map((w) => w.id)]));
}

/**
 * A count written into SQL: limits are part of a prepared statement's text, so that its kept
 * plan is made for them (with a bound LIMIT a generic plan assumes a tenth of the table).
 */
const sqlInt = (n: number): string => String(Math.max(0, Math.trunc(n) || 0));

/**
 * A page's query, as a prepared statement when its plan cannot depend on the values its
 * filters bind (see prepared()): when they bind none (the unfiltered queue and search, the
 * unassigned and uncategorized queues), or when the one filter is an equality that an index
 * made for the page's order answers (a status tab, a technician's or a category's tickets),
 * for the most frequent value as for the rarest. Two filters or more are planned for their
 * values: a kept plan could walk the index of a common value looking for a rare one.
 */
function pageQuery(
  db: Db,
  filters: Condition[],
  order: Order | null,
  sql: string,
  bindings: Knex.RawBinding[],
): Promise<{ rows: ListDocument[] }> {
  const keptPlanFits =
    filters.every((c) => !c.bindings.length) ||
    (filters.length === 1 && !!order?.indexedEquals.includes(filters[0].equals ?? ''));
  return keptPlanFits
    ? prepared<ListDocument>(db, sql, bindings)
    : Promise.resolve(db.raw(sql, bindings));
}

/**
 * The list rows of a page, with their excerpts when it is a search's. Without a search the rows
 * go to the view as read: they carry nothing else, since a description is read for a search's
 * excerpts alone.
 */
async function queueRows(db: Db, f: QueueFilter, rows: ListRow[]): Promise<QueueRow[]> {
  if (!f.q || !f.tsquery) return rows;
  const found = await excerpts(db, rows, f.tsquery);
  return rows.map((r, i) => withExcerpt(r, found[i]));
}

/** One page of tickets, keyset-paged so that page 1,000 costs what page 1 costs. */
export async function listQueue(db: Db, filter: QueueFilter): Promise<QueuePage> {
  const f = await withTsQuery(db, filter);
  const sort: Sort = f.sort === 'relevance' && !f.q ? 'activity' : f.sort;
  const cursor = decode(f.cursor, sort);

  if (sort === 'relevance') {
    // Rank the most recent matches only: a frequent word must not rank 100,000 rows.
    // Whole pages only: the offset is written into a prepared statement's text (sqlInt), and a
    // forged cursor must not make one statement per value.
    const asked = Math.max(0, Number(cursor?.k[0] ?? 0) || 0);
    const offset = Math.min(Math.floor(asked / PAGE_SIZE) * PAGE_SIZE, MAX_RELEVANCE_OFFSET);
    const rows = await relevancePage(db, f, offset);
    const more = rows.length > PAGE_SIZE && offset + PAGE_SIZE < MAX_RELEVANCE_OFFSET;
    return {
      rows: await queueRows(db, f, rows.slice(0, PAGE_SIZE)),
      nextCursor: more
        ? encode({ k: [String(offset + PAGE_SIZE)], id: rows[PAGE_SIZE - 1].id })
        : null,
    };
  }
  if (!f.q && !hasDateRange(f)) {
    // Filters alone walk the order's index: the page and its names come in one query, the
    // queue's most common one, sent as written.
    const order = ORDERS[sort];
    const filters = filterConditions(f);
    const where = whereSql([...filters, ...afterCursor(order, cursor)]);
    const doc = listDocument(
      `select ${LIST_COLUMNS}, ${keysSql(order)} from tickets t where ${where.sql}
        order by ${order.orderBy} limit ${PAGE_SIZE + 1}`,
      [],
      { columns: order.keys.map((_, i) => `k${i}`), row: PAGE_SIZE },
    );
    const result = await pageQuery(
      db,
      filters,
      order,
      doc.sql,
      where.bindings as Knex.RawBinding[],
    );
    const rows = await doc.rows(db, result);
    const keys = doc.keysAt(result);
    return {
      rows: await queueRows(db, f, rows.slice(0, PAGE_SIZE)),
      nextCursor:
        rows.length > PAGE_SIZE && keys ? encode({ k: keys, id: rows[PAGE_SIZE - 1].id }) : null,
    };
  }

  // A search or a range of days: the page's ids first (matchingIds), then their rows.
  const found = await matchingIds(db, f, ORDERS[sort], cursor, PAGE_SIZE + 1);
  const keyed = found.slice(0, PAGE_SIZE);

  const rows = await rowsInOrder(
    db,
    keyed.map((k) => k.id),
    Boolean(f.q && f.tsquery),
  );
  const last = keyed[keyed.length - 1];
  return {
    rows: await queueRows(db, f, rows),
    nextCursor: found.length > PAGE_SIZE && last ? encode(cursorAfter(last)) : null,
  };
}

export interface QueueFacets extends QueueFilterOptions {
  /** Tickets per status under the other filters, each capped at COUNT_CAP + 1 ("99+"). */
  counts: Record<Status, number | null>;
}

/**
 * What the staff queue shows beside its page: tickets per status under the other filters, and
 * the filters' choices. Without a search, both come in one round trip.
 *
 * Each count stops at COUNT_CAP + 1 (shown as "99+"). A search counts one sample of at most
 * COUNT_CAP + 1 matches through the full-text index; past that the per-status numbers are
 * unknown (null) rather than guessed. A search the planner expects to match far more often
 * than that is not sampled at all: it is unknown too.
 */
export async function queueFacets(
  db: Db,
  filter: Omit<QueueFilter, 'sort' | 'cursor'>,
): Promise<QueueFacets> {
  const f = await withTsQuery(db, filter);
  if (f.q) {
    const [counts, result] = await Promise.all([
      searchCounts(db, f),
      db.raw(`select ${QUEUE_FILTER_OPTION_COLUMNS}`),
    ]);
    return { counts, ...(result.rows[0] as QueueFilterOptions) };
  }
  // One counting subquery, run once per status: planned once, where a union of five copies
  // cost the planner more than the counting.
  const where = whereSql(filterConditions(f, { withStatus: false }));
  const result = await db.raw(
    `select (select json_object_agg(s.status, (
               select count(*) from (
                 select 1 from tickets t where ${where.sql} and t.status = s.status limit ?
               ) x))
             from unnest(?::text[]) as s(status)) as counts,
            ${QUEUE_FILTER_OPTION_COLUMNS}`,
    [...where.bindings, COUNT_CAP + 1, [...STATUSES]] as Knex.RawBinding[],
  );
  return result.rows[0] as QueueFacets;
}

async function searchCounts(
  db: Db,
  f: Omit<QueueFilter, 'sort' | 'cursor'>,
): Promise<Record<Status, number | null>> {
  const out = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<Status, number | null>;
  if ((await estimatedMatches(db, f, { withStatus: false })) >= COUNT_CAP * FREQUENT_FACTOR) {
    for (const s of STATUSES) out[s] = null;
    return out;
  }
  const rows = await throughIndex(db, async (trx) => {
    const sample = applyFilters(trx('tickets as t'), f, { withStatus: false })
      .select('t.status')
      .limit(COUNT_CAP + 1);
    return (await trx.from(sample.as('x')).select('status').count('* as n').groupBy('status')) as {
      status: Status;
      n: number;
    }[];
  });
  const total = rows.reduce((n, r) => n + Number(r.n), 0);
  if (total > COUNT_CAP) for (const s of STATUSES) out[s] = null;
  else for (const r of rows) out[r.status] = Number(r.n);
  return out;
}

export interface ExportRow {
  id: number;
  title: string;
  status: Status;
  priority: Priority;
  category: string | null;
  requester: string;
  requesterEmail: string;
  assignee: string | null;
  createdAt: Date;
  lastActivityAt: Date;
  firstResponseAt: Date | null;
  resolvedAt: Date | null;
  closedAt: Date | null;
}

/**
 * Every ticket matching the filters, in batches walked by keyset in the queue's order, so an
 * export of a million rows holds one batch in memory at a time.
 */
export async function* exportTickets(
  db: Db,
  filter: Omit<QueueFilter, 'cursor'>,
  batchSize = 500,
): AsyncGenerator<ExportRow[]> {
  const f = await withTsQuery(db, withFields(filter, { cursor: undefined }));
  const order = ORDERS[f.sort === 'relevance' ? 'activity' : f.sort];
  let cursor: Cursor | null = null;
  for (;;) {
    // The same tickets in the same order as the queue's pages, a batch at a time.
    const keyed = await matchingIds(db, f, order, cursor, batchSize);
    if (!keyed.length) return;
    const rows = (await joinNames(db('tickets as t'))
      .whereIn(
        't.id',
        keyed.map((k) => k.id),
      )
      .select(
        't.id',
        't.title',
        't.status',
        't.priority',
        'c.name as category',
        'r.name as requester',
        'r.email as requester_email',
        'a.name as assignee',
        't.created_at',
        't.last_activity_at',
        't.first_response_at',
        't.resolved_at',
        't.closed_at',
      )) as Record<string, unknown>[];
    const byId = new Map(rows.map((r) => [r.id as number, r]));
    yield keyed.flatMap((k) => {
      const r = byId.get(k.id);
      if (!r) return []; // deleted since the ids were read
      return [
        {
          id: r.id as number,
          title: r.title as string,
          status: r.status as Status,
          priority: r.priority as Priority,
          category: r.category as string | null,
          requester: r.requester as string,
          requesterEmail: r.requester_email as string,
          assignee: r.assignee as string | null,
          createdAt: r.created_at as Date,
          lastActivityAt: r.last_activity_at as Date,
          firstResponseAt: r.first_response_at as Date | null,
          resolvedAt: r.resolved_at as Date | null,
          closedAt: r.closed_at as Date | null,
        },
      ];
    });
    if (keyed.length < batchSize) return;
    const last = keyed[keyed.length - 1];
    cursor = cursorAfter(last);
  }
}
