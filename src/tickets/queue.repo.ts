import type { Knex } from 'knex';
import { ticketQuery, toTicket, type Ticket, type TicketRow } from './tickets.repo';
import { STATUSES, type Priority, type Status } from './workflow';

type Db = Knex | Knex.Transaction;

export const SORTS = ['activity', 'created', 'priority', 'relevance'] as const;
export type Sort = (typeof SORTS)[number];

export interface QueueFilter {
  statuses: Status[];
  priority?: Priority;
  categoryId?: number;
  /** An id, or the viewer ('me' resolved by the caller), or null for "nobody". */
  assigneeId?: number | null;
  requesterId?: number;
  q?: string;
  sort: Sort;
  cursor?: string;
  /** Staff search internal notes too. */
  includeNotes: boolean;
}

export interface QueueRow extends Ticket {
  /** Search excerpt with \u0001…\u0002 around the matches (escaped and marked by the view). */
  snippet: string | null;
}

export interface QueuePage {
  rows: QueueRow[];
  nextCursor: string | null;
}

export const PAGE_SIZE = 50;
/** Relevance pages use an offset, so they stop somewhere: past this, refine the search. */
const MAX_RELEVANCE_OFFSET = 500;
/** Status tab counts stop counting here and show "1000+". */
export const COUNT_CAP = 1000;

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

/** The filters every list shares: the queue, the tab counts, the CSV export. */
export function applyFilters(
  q: Knex.QueryBuilder,
  f: Omit<QueueFilter, 'sort' | 'cursor'>,
  opts: { withStatus: boolean } = { withStatus: true },
): Knex.QueryBuilder {
  if (opts.withStatus && f.statuses.length && f.statuses.length < STATUSES.length) {
    q.whereIn('t.status', f.statuses);
  }
  if (f.priority) q.where('t.priority', f.priority);
  if (f.categoryId !== undefined) q.where('t.category_id', f.categoryId);
  if (f.assigneeId === null) q.whereNull('t.assignee_id');
  else if (f.assigneeId !== undefined) q.where('t.assignee_id', f.assigneeId);
  if (f.requesterId !== undefined) q.where('t.requester_id', f.requesterId);
  const search = f.q;
  if (search) {
    if (f.includeNotes) {
      q.where((w) =>
        w
          .whereRaw('t.search_vector @@ guichet_tsq(?)', [search])
          .orWhereRaw('t.notes_vector @@ guichet_tsq(?)', [search]),
      );
    } else {
      q.whereRaw('t.search_vector @@ guichet_tsq(?)', [search]);
    }
  }
  return q;
}

/** One page of tickets, keyset-paged so that page 1,000 costs what page 1 costs. */
export async function listQueue(db: Db, f: QueueFilter): Promise<QueuePage> {
  const q = applyFilters(ticketQuery(db), f);
  const sort: Sort = f.sort === 'relevance' && !f.q ? 'activity' : f.sort;
  const cursor = decode(f.cursor, sort);
  switch (sort) {
    case 'activity':
      q.select(db.raw('t.last_activity_at::text as k0'));
      if (cursor)
        q.whereRaw('(t.last_activity_at, t.id) < (?::timestamptz, ?)', [cursor.k[0], cursor.id]);
      q.orderBy([
        { column: 't.last_activity_at', order: 'desc' },
        { column: 't.id', order: 'desc' },
      ]);
      break;
    case 'created':
      q.select(db.raw('t.created_at::text as k0'));
      if (cursor)
        q.whereRaw('(t.created_at, t.id) < (?::timestamptz, ?)', [cursor.k[0], cursor.id]);
      q.orderBy([
        { column: 't.created_at', order: 'desc' },
        { column: 't.id', order: 'desc' },
      ]);
      break;
    case 'priority':
      q.select(db.raw('t.priority_rank::text as k0'), db.raw('t.created_at::text as k1'));
      if (cursor) {
        q.whereRaw('(t.priority_rank, t.created_at, t.id) > (?::smallint, ?::timestamptz, ?)', [
          cursor.k[0],
          cursor.k[1],
          cursor.id,
        ]);
      }
      q.orderBy([
        { column: 't.priority_rank', order: 'asc' },
        { column: 't.created_at', order: 'asc' },
        { column: 't.id', order: 'asc' },
      ]);
      break;
    case 'relevance': {
      const offset = Math.min(Number(cursor?.k[0] ?? 0) || 0, MAX_RELEVANCE_OFFSET);
      const rank = f.includeNotes
        ? 'ts_rank(t.search_vector || t.notes_vector, guichet_tsq(?))'
        : 'ts_rank(t.search_vector, guichet_tsq(?))';
      q.orderByRaw(`${rank} desc, t.id desc`, [f.q ?? '']).offset(offset);
      q.select(db.raw(`?::text as k0`, [String(offset + PAGE_SIZE)]));
      break;
    }
  }
  if (f.q) {
    q.select(
      db.raw(
        `ts_headline('guichet_fr', t.title || ' — ' || t.description, guichet_tsq(?),
          'StartSel=\u0001, StopSel=\u0002, MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "') as snippet`,
        [f.q],
      ),
    );
  }
  const rows = (await q.limit(PAGE_SIZE + 1)) as (TicketRow & {
    k0: string;
    k1?: string;
    snippet?: string;
  })[];
  const more = rows.length > PAGE_SIZE;
  const page = rows.slice(0, PAGE_SIZE);
  const last = page[page.length - 1];
  const reachedCap = sort === 'relevance' && Number(last?.k0) > MAX_RELEVANCE_OFFSET;
  return {
    rows: page.map((r) => ({ ...toTicket(r), snippet: r.snippet ?? null })),
    nextCursor:
      more && last && !reachedCap
        ? encode({ k: [last.k0, ...(last.k1 ? [last.k1] : [])], id: last.id })
        : null,
  };
}

/** Tickets per status under the other filters, each count capped at COUNT_CAP + 1. */
export async function statusCounts(
  db: Db,
  f: Omit<QueueFilter, 'sort' | 'cursor'>,
): Promise<Record<Status, number>> {
  const parts = STATUSES.map((status) => {
    const inner = applyFilters(db('tickets as t'), f, { withStatus: false })
      .where('t.status', status)
      .select(db.raw('1'))
      .limit(COUNT_CAP + 1);
    return db.raw(`select ?::text as status, count(*)::int as n from (${inner.toQuery()}) x`, [
      status,
    ]);
  });
  const sql = parts.map((p) => p.toQuery()).join(' union all ');
  const result = await db.raw(sql);
  const out = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<Status, number>;
  for (const row of result.rows as { status: Status; n: number }[]) out[row.status] = row.n;
  return out;
}
