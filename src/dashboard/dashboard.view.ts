import type { Locale } from '../config';
import { listUrl } from '../http/urls';
import type { TFunction } from '../i18n';
import { OPEN_STATUSES, PRIORITIES } from '../tickets/workflow';
import type { DayRange } from './calendar';
import { noon } from './calendar';
import { bars, lineChart, type Bar, type LineChart } from './charts';
import type { Durations } from './dashboard.repo';
import type { Compared, DeskStats } from './dashboard.service';

const OPEN = OPEN_STATUSES.join(',');

/** The queue showing exactly the tickets a figure counts. */
export function queueLink(params: Record<string, string | number>): string {
  return listUrl('/tickets', params);
}

const rangeParams = (key: 'created' | 'resolved' | 'responded', r: DayRange) => ({
  [`${key}_from`]: r.from,
  [`${key}_to`]: r.to,
});

export interface Card {
  label: string;
  value: string;
  href: string;
  hint?: string;
}

export interface Change {
  /** "+12 %", or null when there is nothing to compare with. */
  text: string | null;
  /** better / worse / same, for the colour and the screen-reader wording. */
  tone: 'better' | 'worse' | 'same' | null;
}

export interface TimeFigure {
  label: string;
  median: string;
  p90: string;
  count: string;
  href: string;
  previous: string;
  previousHref: string;
  change: Change;
}

export interface DashboardView {
  asOf: string;
  cards: Card[];
  periodCards: (Card & { previous: string; previousHref: string; change: Change })[];
  times: TimeFigure[];
  weekly: {
    chart: LineChart;
    title: string;
    summary: string;
    rows: {
      label: string;
      created: string;
      resolved: string;
      createdHref: string;
      resolvedHref: string;
    }[];
  };
  byPriority: Bar[];
  byCategory: Bar[];
  oldest: DeskStats['oldest'];
  oldestHref: string;
  periodLabel: string;
}

function buildFormatters(locale: Locale, timeZone: string) {
  const lang = locale === 'fr' ? 'fr-FR' : 'en-GB';
  const integer = new Intl.NumberFormat(lang);
  const unit = (u: 'minute' | 'hour' | 'day') =>
    new Intl.NumberFormat(lang, {
      style: 'unit',
      unit: u,
      unitDisplay: u === 'day' ? 'long' : 'short',
      maximumFractionDigits: u === 'minute' ? 0 : 1,
    });
  const minutes = unit('minute');
  const hours = unit('hour');
  const days = unit('day');
  const percent = new Intl.NumberFormat(lang, {
    style: 'percent',
    maximumFractionDigits: 0,
    signDisplay: 'exceptZero',
  });
  const shortDay = new Intl.DateTimeFormat(lang, {
    day: 'numeric',
    month: 'short',
    timeZone: 'UTC',
  });
  const longDay = new Intl.DateTimeFormat(lang, { dateStyle: 'long', timeZone: 'UTC' });
  const clock = new Intl.DateTimeFormat(lang, { dateStyle: 'long', timeStyle: 'short', timeZone });
  return {
    integer: (n: number) => integer.format(n),
    /** Seconds as minutes, hours or days, whichever reads best. */
    duration: (seconds: number | null) => {
      if (seconds === null) return '—';
      if (seconds < 3600) return minutes.format(Math.max(1, Math.round(seconds / 60)));
      if (seconds < 48 * 3600) return hours.format(seconds / 3600);
      return days.format(seconds / 86400);
    },
    change: (current: number | null, previous: number | null) =>
      current === null || previous === null || previous === 0
        ? null
        : percent.format((current - previous) / previous),
    shortDay: (day: string) => shortDay.format(noon(day)),
    longDay: (day: string) => longDay.format(noon(day)),
    clock: (d: Date) => clock.format(d),
  };
}

const formatterCache = new Map<string, ReturnType<typeof buildFormatters>>();

/** The reader's number and date formats, built once per language and time zone. */
export function formatters(locale: Locale, timeZone: string) {
  const key = `${locale} ${timeZone}`;
  let built = formatterCache.get(key);
  if (!built) {
    built = buildFormatters(locale, timeZone);
    formatterCache.set(key, built);
  }
  return built;
}

/** How a figure moved since the previous period; `lowerIsBetter` for durations. */
function compare(
  fmt: ReturnType<typeof formatters>,
  current: number | null,
  previous: number | null,
  direction: 'lowerIsBetter' | 'higherIsBetter' | 'neutral',
): Change {
  const text = fmt.change(current, previous);
  if (text === null || current === null || previous === null) return { text: null, tone: null };
  if (current === previous || direction === 'neutral') return { text, tone: 'same' };
  const better = direction === 'lowerIsBetter' ? current < previous : current > previous;
  return { text, tone: better ? 'better' : 'worse' };
}

export function dashboardView(
  stats: DeskStats,
  mine: number,
  t: TFunction,
  locale: Locale,
  timeZone: string,
): DashboardView {
  const fmt = formatters(locale, timeZone);
  const { open, period } = stats;
  const n = fmt.integer;

  const cards: Card[] = [
    { label: t('dashboard.cards.open'), value: n(open.total), href: queueLink({ status: OPEN }) },
    ...OPEN_STATUSES.map((s) => ({
      label: t(`dashboard.cards.status.${s}`),
      value: n(open.byStatus[s]),
      href: queueLink({ status: s }),
    })),
    {
      label: t('dashboard.cards.unassigned'),
      value: n(open.unassigned),
      href: queueLink({ status: OPEN, assignee: 'none' }),
    },
    {
      label: t('dashboard.cards.mine'),
      value: n(mine),
      href: queueLink({ status: OPEN, assignee: 'me' }),
    },
  ];

  const count = (
    label: string,
    figures: Compared<number>,
    key: 'created' | 'resolved',
    direction: 'higherIsBetter' | 'neutral',
  ) => ({
    label,
    value: n(figures.current),
    href: queueLink(rangeParams(key, period.current)),
    previous: n(figures.previous),
    previousHref: queueLink(rangeParams(key, period.previous)),
    change: compare(fmt, figures.current, figures.previous, direction),
  });
  const periodCards = [
    count(t('dashboard.period.created'), stats.created, 'created', 'neutral'),
    count(t('dashboard.period.resolved'), stats.resolved, 'resolved', 'higherIsBetter'),
  ];

  const time = (
    label: string,
    figures: Compared<Durations>,
    key: 'responded' | 'resolved',
  ): TimeFigure => ({
    label,
    median: fmt.duration(figures.current.median),
    p90: fmt.duration(figures.current.p90),
    count: t('dashboard.times.count', {
      count: figures.current.count,
      n: n(figures.current.count),
    }),
    href: queueLink(rangeParams(key, period.current)),
    previous: fmt.duration(figures.previous.median),
    previousHref: queueLink(rangeParams(key, period.previous)),
    change: compare(fmt, figures.current.median, figures.previous.median, 'lowerIsBetter'),
  });

  const labels = stats.weeks.map((w) => fmt.shortDay(w.range.from));
  const chart = lineChart(
    labels,
    [
      {
        key: 'created',
        name: t('dashboard.weekly.created'),
        values: stats.weeks.map((w) => w.created),
      },
      {
        key: 'resolved',
        name: t('dashboard.weekly.resolved'),
        values: stats.weeks.map((w) => w.resolved),
      },
    ],
    n,
  );
  const totalCreated = stats.weeks.reduce((s, w) => s + w.created, 0);
  const totalResolved = stats.weeks.reduce((s, w) => s + w.resolved, 0);

  return {
    asOf: fmt.clock(stats.at),
    periodLabel: t('dashboard.period.range', {
      from: fmt.longDay(period.current.from),
      to: fmt.longDay(period.current.to),
    }),
    cards,
    periodCards,
    times: [
      time(t('dashboard.times.first_response'), stats.firstResponse, 'responded'),
      time(t('dashboard.times.resolution'), stats.resolution, 'resolved'),
    ],
    weekly: {
      chart,
      title: t('dashboard.weekly.title', { count: stats.weeks.length }),
      summary: t('dashboard.weekly.summary', {
        from: fmt.longDay(stats.weeks[0].range.from),
        to: fmt.longDay(stats.weeks[stats.weeks.length - 1].range.to),
        created: n(totalCreated),
        resolved: n(totalResolved),
      }),
      rows: stats.weeks.map((w, i) => ({
        label: t(
          i === stats.weeks.length - 1 ? 'dashboard.weekly.this_week' : 'dashboard.weekly.week_of',
          {
            date: fmt.longDay(w.range.from),
          },
        ),
        created: n(w.created),
        resolved: n(w.resolved),
        createdHref: queueLink(rangeParams('created', w.range)),
        resolvedHref: queueLink(rangeParams('resolved', w.range)),
      })),
    },
    byPriority: bars(
      [...PRIORITIES].reverse().map((p) => ({
        label: t(`tickets.priority.${p}`),
        value: open.byPriority[p],
        text: n(open.byPriority[p]),
        href: queueLink({ status: OPEN, priority: p }),
        tone: p,
      })),
    ),
    byCategory: bars(
      open.byCategory.map((c) => ({
        label: c.name ?? t('dashboard.no_category'),
        value: c.n,
        text: n(c.n),
        href: queueLink({ status: OPEN, category: c.id ?? 'none' }),
      })),
    ),
    oldest: stats.oldest,
    oldestHref: queueLink({ status: OPEN, sort: 'oldest' }),
  };
}
