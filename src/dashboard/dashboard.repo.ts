import type { Knex } from 'knex';
import { ticketQuery, toTicket, type Ticket, type TicketRow } from '../tickets/tickets.repo';
import { OPEN_STATUSES, type Priority, type Status } from '../tickets/workflow';
import { instants, type DayRange } from './calendar';

type Db = Knex | Knex.Transaction;

/** One group of open tickets: the dashboard adds them up by status, priority, category. */
export interface OpenGroup {
  status: Status;
  priority: Priority;
  categoryId: number | null;
  unassigned: boolean;
  n: number;
}

/**
 * The open tickets in one pass over the partial index that holds only them
 * (tickets_open_idx covers every column read here).
 */
export async function openGroups(db: Db): Promise<OpenGroup[]> {
  const rows = (await db('tickets')
    .whereIn('status', OPEN_STATUSES)
    .select(
      'status',
      'priority',
      'category_id',
      db.raw('(assignee_id is null) as unassigned'),
      db.raw('count(*)::int as n'),
    )
    .groupByRaw('1, 2, 3, 4')) as {
    status: Status;
    priority: Priority;
    category_id: number | null;
    unassigned: boolean;
    n: number;
  }[];
  return rows.map((r) => ({
    status: r.status,
    priority: r.priority,
    categoryId: r.category_id,
    unassigned: r.unassigned,
    n: r.n,
  }));
}

export async function openAssignedTo(db: Db, userId: number): Promise<number> {
  const row = (await db('tickets')
    .whereIn('status', OPEN_STATUSES)
    .where('assignee_id', userId)
    .count<{ n: string }[]>('* as n')
    .first()) as { n: string } | undefined;
  return Number(row?.n ?? 0);
}

/** The open tickets waiting longest, as the queue lists them (sort=oldest). */
export async function oldestOpen(db: Db, limit: number): Promise<Ticket[]> {
  const rows = (await ticketQuery(db)
    .whereIn('t.status', OPEN_STATUSES)
    .orderBy([
      { column: 't.created_at', order: 'asc' },
      { column: 't.id', order: 'asc' },
    ])
    .limit(limit)) as TicketRow[];
  return rows.map(toTicket);
}

/** The stamp column each measured event lives in. */
const STAMPS = {
  created: 'created_at',
  resolved: 'resolved_at',
  responded: 'first_response_at',
} as const;
export type Stamp = keyof typeof STAMPS;

/** `column` within the days of `range` (both included) in `timeZone`, as SQL and bindings. */
function within(column: string, range: DayRange, timeZone: string): [string, Date[]] {
  const { from, until } = instants(range, timeZone);
  return [`${column} >= ? and ${column} < ?`, [from!, until!]];
}

/** How many tickets were created / resolved in each range: one index range count each. */
export async function countsPerRange(
  db: Db,
  stamp: Stamp,
  ranges: DayRange[],
  timeZone: string,
): Promise<number[]> {
  if (!ranges.length) return [];
  const column = STAMPS[stamp];
  const parts = ranges.map((r) => {
    const [sql, bindings] = within(column, r, timeZone);
    return db.raw(`(select count(*)::int from tickets where ${sql})`, bindings).toQuery();
  });
  const row = (await db.raw(`select array[${parts.join(', ')}] as counts`)).rows[0] as {
    counts: number[];
  };
  return row.counts;
}

export interface Durations {
  /** Tickets measured. */
  count: number;
  /** Seconds; null without tickets. */
  median: number | null;
  p90: number | null;
}

/**
 * Time from creation to the first response (tickets first answered in the range) or to the
 * resolution (tickets resolved in the range): median and 90th percentile.
 */
export async function durations(
  db: Db,
  stamp: Exclude<Stamp, 'created'>,
  range: DayRange,
  timeZone: string,
): Promise<Durations> {
  const column = STAMPS[stamp];
  const [sql, bindings] = within(column, range, timeZone);
  const row = (
    await db.raw(
      `select count(*)::int as count,
              percentile_cont(array[0.5, 0.9]) within group
                (order by extract(epoch from ${column} - created_at)) as p
         from tickets where ${sql}`,
      bindings,
    )
  ).rows[0] as { count: number; p: number[] | null };
  return {
    count: row.count,
    median: row.p ? Math.max(0, row.p[0]) : null,
    p90: row.p ? Math.max(0, row.p[1]) : null,
  };
}
