import type { Knex } from 'knex';
import { listCategories } from '../categories/categories.repo';
import { OPEN_STATUSES, PRIORITIES, type Priority, type Status } from '../tickets/workflow';
import { lastWeeks, periodOf, type DayRange } from './calendar';
import type { Ticket } from '../tickets/tickets.repo';
import * as repo from './dashboard.repo';
import { SharedCache } from '../shared-cache';

export const PERIODS = [7, 30, 90] as const;
export type Period = (typeof PERIODS)[number];
export const DEFAULT_PERIOD: Period = 30;
export const WEEKS = 12;
export const OLDEST_SHOWN = 5;

export interface CategoryCount {
  /** null: tickets without a category. */
  id: number | null;
  name: string | null;
  n: number;
}

export interface Compared<T> {
  current: T;
  previous: T;
}

/** Everything on the dashboard that is the same for every viewer. */
export interface DeskStats {
  at: Date;
  days: Period;
  period: Compared<DayRange>;
  open: {
    total: number;
    unassigned: number;
    byStatus: Record<Status, number>;
    byPriority: Record<Priority, number>;
    byCategory: CategoryCount[];
  };
  oldest: Ticket[];
  weeks: { range: DayRange; created: number; resolved: number }[];
  created: Compared<number>;
  resolved: Compared<number>;
  firstResponse: Compared<repo.Durations>;
  resolution: Compared<repo.Durations>;
}

async function computeStats(
  db: Knex,
  now: Date,
  timeZone: string,
  days: Period,
): Promise<DeskStats> {
  const period = periodOf(now, timeZone, days);
  const weeks = lastWeeks(now, timeZone, WEEKS);
  const both = [period.current, period.previous];
  const [groups, categories, oldest, created, resolved, weeklyCreated, weeklyResolved, durations] =
    await Promise.all([
      repo.openGroups(db),
      listCategories(db),
      repo.oldestOpen(db, OLDEST_SHOWN),
      repo.countsPerRange(db, 'created', both, timeZone),
      repo.countsPerRange(db, 'resolved', both, timeZone),
      repo.countsPerRange(db, 'created', weeks, timeZone),
      repo.countsPerRange(db, 'resolved', weeks, timeZone),
      Promise.all([
        repo.durations(db, 'responded', period.current, timeZone),
        repo.durations(db, 'responded', period.previous, timeZone),
        repo.durations(db, 'resolved', period.current, timeZone),
        repo.durations(db, 'resolved', period.previous, timeZone),
      ]),
    ]);

  const byStatus = Object.fromEntries(OPEN_STATUSES.map((s) => [s, 0])) as Record<Status, number>;
  const byPriority = Object.fromEntries(PRIORITIES.map((p) => [p, 0])) as Record<Priority, number>;
  const perCategory = new Map<number | null, number>();
  let unassigned = 0;
  let total = 0;
  for (const g of groups) {
    total += g.n;
    byStatus[g.status] += g.n;
    byPriority[g.priority] += g.n;
    perCategory.set(g.categoryId, (perCategory.get(g.categoryId) ?? 0) + g.n);
    if (g.unassigned) unassigned += g.n;
  }
  const names = new Map(categories.map((c) => [c.id, c.name]));
  const byCategory = [...perCategory.entries()]
    .map(([id, n]) => ({ id, name: id === null ? null : (names.get(id) ?? null), n }))
    .sort((a, b) => b.n - a.n || (a.name ?? '').localeCompare(b.name ?? ''));

  return {
    at: now,
    days,
    period,
    open: { total, unassigned, byStatus, byPriority, byCategory },
    oldest,
    weeks: weeks.map((range, i) => ({
      range,
      created: weeklyCreated[i],
      resolved: weeklyResolved[i],
    })),
    created: { current: created[0], previous: created[1] },
    resolved: { current: resolved[0], previous: resolved[1] },
    firstResponse: { current: durations[0], previous: durations[1] },
    resolution: { current: durations[2], previous: durations[3] },
  };
}

/**
 * The desk's figures, computed at most once per `ttlMs` per period and shared by every
 * viewer of this process; requests that arrive while they are computed wait for the same
 * result instead of computing it again.
 */
export class DashboardStats {
  private readonly cache: SharedCache<Period, DeskStats>;

  constructor(
    private readonly db: Knex,
    private readonly timeZone: string,
    private readonly clock: () => Date,
    ttlMs: number,
  ) {
    this.cache = new SharedCache({ ttlMs, now: () => clock().getTime() });
  }

  get(days: Period): Promise<DeskStats> {
    return this.cache.get(days, () => computeStats(this.db, this.clock(), this.timeZone, days));
  }
}

/** What only this viewer sees: their own open tickets. */
export function assignedTo(db: Knex, userId: number): Promise<number> {
  return repo.openAssignedTo(db, userId);
}
