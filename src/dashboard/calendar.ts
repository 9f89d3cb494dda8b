/**
 * Calendar days as `YYYY-MM-DD` strings in the desk's time zone. The dashboard counts whole
 * days and ISO weeks (Monday first), and the queue's date filters take the same strings, so a
 * figure and the list it links to always cut time at the same midnight.
 */
export type Day = string;

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Whether `value` is a real calendar day (`2026-02-30` is not). */
export function isDay(value: unknown): value is Day {
  if (typeof value !== 'string') return false;
  const m = DAY.exec(value);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === value && Number(m[1]) >= 1970 && Number(m[1]) <= 9999;
}

/** The day it is at `now` in `timeZone`. */
export function today(now: Date, timeZone: string): Day {
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(now);
}

/** Noon UTC of a day: safe for day arithmetic and for formatting the date alone. */
export function noon(day: Day): Date {
  return new Date(`${day}T12:00:00Z`);
}

export function addDays(day: Day, n: number): Day {
  return new Date(noon(day).getTime() + n * 86_400_000).toISOString().slice(0, 10);
}

/** The Monday of the ISO week holding `day`. */
export function mondayOf(day: Day): Day {
  const weekday = (noon(day).getUTCDay() + 6) % 7; // Monday 0 … Sunday 6
  return addDays(day, -weekday);
}

const offsetFormats = new Map<string, Intl.DateTimeFormat>();

/** How far `timeZone`'s wall clock is ahead of UTC at `ms`, in milliseconds. */
function offsetAt(ms: number, timeZone: string): number {
  let format = offsetFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    offsetFormats.set(timeZone, format);
  }
  const p = Object.fromEntries(format.formatToParts(ms).map((x) => [x.type, Number(x.value)]));
  const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return wall - Math.floor(ms / 1000) * 1000;
}

/**
 * The instant a day starts in `timeZone`. Computed here rather than in SQL so that queries
 * compare with constants, whose selectivity the planner can estimate.
 */
export function startOfDay(day: Day, timeZone: string): Date {
  const midnightUtc = Date.parse(`${day}T00:00:00Z`);
  const first = midnightUtc - offsetAt(midnightUtc, timeZone);
  // Across a change of offset, the offset at the first guess may not be the one at midnight.
  const second = midnightUtc - offsetAt(first, timeZone);
  return new Date(second);
}

/** Inclusive range of days. */
export interface DayRange {
  from: Day;
  to: Day;
}

/** The instants a range of days covers: [start of `from`, start of the day after `to`). */
export function instants(
  range: Partial<DayRange>,
  timeZone: string,
): { from?: Date; until?: Date } {
  return {
    from: range.from ? startOfDay(range.from, timeZone) : undefined,
    until: range.to ? startOfDay(addDays(range.to, 1), timeZone) : undefined,
  };
}

/** The last `days` days up to and including today, and the same length just before. */
export function periodOf(
  now: Date,
  timeZone: string,
  days: number,
): { current: DayRange; previous: DayRange } {
  const end = today(now, timeZone);
  const from = addDays(end, -(days - 1));
  return {
    current: { from, to: end },
    previous: { from: addDays(from, -days), to: addDays(from, -1) },
  };
}

/** The last `count` ISO weeks, oldest first, the current (partial) week last. */
export function lastWeeks(now: Date, timeZone: string, count: number): DayRange[] {
  const monday = mondayOf(today(now, timeZone));
  return Array.from({ length: count }, (_, i) => {
    const from = addDays(monday, -7 * (count - 1 - i));
    return { from, to: addDays(from, 6) };
  });
}
