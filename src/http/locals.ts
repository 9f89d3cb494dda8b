import type { NextFunction, Request, Response } from 'express';
import { BoundedMap } from '../bounded-map';
import { LOCALES, type Config, type Locale } from '../config';
import { noon } from '../dashboard/calendar';
import { translator } from '../i18n';
import { escapeHtml } from './views';

const RELATIVE_UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['week', 7 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
  ['second', 1],
];

/** Past this many remembered strings, a cache starts over (it only ever holds recent dates). */
const CACHE_MAX = 20_000;

/** Remembers a formatter's output per key: a list shows the same dates page after page. */
function remembered<K>(format: (key: K) => string): (key: K) => string {
  const cache = new BoundedMap<K, string>(CACHE_MAX);
  return (key) => cache.remember(key, format);
}

const asDate = (d: Date | string) => (d instanceof Date ? d : new Date(d));
const isoDate = remembered((ms: number) => new Date(ms).toISOString());

/**
 * A ticket's status and priority badges in one language, made once each: a list shows one of
 * each per row, and including a partial for them cost a copy of the page's locals and a
 * template run each time (about 30 µs of a 50-row queue page).
 */
function badges(locale: Locale) {
  const t = translator(locale);
  const prefix = escapeHtml(t('tickets.show.priority_prefix'));
  const label = (key: string) => escapeHtml(t(key));
  const status = remembered(
    (s: string) =>
      `<span class="badge badge--${escapeHtml(s)}">${label(`tickets.status.${s}`)}</span>`,
  );
  const priority = (p: string, hidden: string) =>
    `<span class="badge badge--${escapeHtml(p)}">${hidden}${label(`tickets.priority.${p}`)}</span>`;
  // In a table the column's header says what it is; elsewhere a hidden prefix says it.
  const alone = remembered((p: string) =>
    priority(p, `<span class="visually-hidden">${prefix}</span>`),
  );
  const inTable = remembered((p: string) => priority(p, ''));
  return {
    statusBadge: status,
    priorityBadge: (p: string, table = false) => (table ? inTable(p) : alone(p)),
  };
}

const BADGES = Object.fromEntries(LOCALES.map((l) => [l, badges(l)])) as Record<
  Locale,
  ReturnType<typeof badges>
>;

/** One cache per unit of time, of what `format` gives for an amount of that unit. */
function relativeCaches(format: (n: number, unit: Intl.RelativeTimeFormatUnit) => string) {
  return Object.fromEntries(
    RELATIVE_UNITS.map(([unit]) => [unit, remembered((n: number) => format(n, unit))]),
  ) as Record<Intl.RelativeTimeFormatUnit, (n: number) => string>;
}

/** View helpers that depend on the viewer's language and the server's time zone. */
export function viewHelpers(config: Pick<Config, 'timeZone'>, clock: () => Date) {
  // Built once per language: an Intl formatter costs more to create than a page's dates to
  // format, and formatting costs more than looking up what it gave last time.
  const formatters = (lang: string) => {
    const dateTime = new Intl.DateTimeFormat(lang, {
      dateStyle: 'medium',
      timeStyle: 'short',
      timeZone: config.timeZone,
    });
    const relative = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' });
    // Shown to the minute: one string per minute.
    const toMinute = remembered((minute: number) => dateTime.format(minute * 60_000));
    return {
      dateTime: toMinute,
      // What a moment's <time> element opens with: its instant, and its date as a tooltip.
      timeOpening: remembered(
        (ms: number) =>
          `<time datetime="${isoDate(ms)}" title="${escapeHtml(toMinute(Math.floor(ms / 60_000)))}">`,
      ),
      // One cache per unit, of the few amounts each is shown with: as text, and escaped for
      // HTML (a list shows two per row).
      relative: relativeCaches((n, unit) => relative.format(n, unit)),
      relativeHtml: relativeCaches((n, unit) => escapeHtml(relative.format(n, unit))),
      day: new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeZone: 'UTC' }),
    };
  };
  const byLang = { 'fr-FR': formatters('fr-FR'), 'en-GB': formatters('en-GB') };
  return (req: Request, res: Response, next: NextFunction): void => {
    const { dateTime, timeOpening, relative, relativeHtml, day } =
      byLang[req.locale === 'fr' ? 'fr-FR' : 'en-GB'];
    res.locals.currentUser = req.user ?? null;
    res.locals.currentPath = req.originalUrl;
    const { statusBadge, priorityBadge } = BADGES[req.locale];
    res.locals.statusBadge = statusBadge;
    res.locals.priorityBadge = priorityBadge;
    const exactly = (ms: number) => dateTime(Math.floor(ms / 60_000));
    res.locals.formatDateTime = (d: Date | string | null) =>
      d ? exactly(asDate(d).getTime()) : '';
    // Every date of a page is relative to the same moment, read once.
    let now: number | undefined;
    const fromNow = (ms: number, caches = relative) => {
      now ??= clock().getTime();
      const seconds = (ms - now) / 1000;
      for (const [unit, size] of RELATIVE_UNITS) {
        if (Math.abs(seconds) >= size || unit === 'second') {
          return caches[unit](Math.round(seconds / size));
        }
      }
      return '';
    };
    res.locals.formatRelative = (d: Date | string | null) =>
      d ? fromNow(asDate(d).getTime()) : '';
    /**
     * A moment as HTML: a <time> element showing how long ago it was, the exact date as its
     * tooltip, and with `exact` that date shown as well. The one markup of every page's dates.
     */
    res.locals.timeTag = (d: Date | string | null, exact = false) => {
      if (!d) return '';
      const ms = asDate(d).getTime();
      const shown = fromNow(ms, relativeHtml);
      return exact
        ? `${timeOpening(ms)}${shown}<span class="time-exact"> · ${escapeHtml(exactly(ms))}</span></time>`
        : `${timeOpening(ms)}${shown}</time>`;
    };
    // A calendar day (YYYY-MM-DD), the same in every time zone.
    res.locals.formatDay = (d: string) => day.format(noon(d));
    res.locals.isoDate = (d: Date | string | null) => (d ? isoDate(asDate(d).getTime()) : '');
    // Messages of the form `key:max` carry one parameter (validation.too_long:200).
    res.locals.errorText = (message: string | undefined) => {
      if (!message) return '';
      const [key, param] = message.split(':');
      return res.locals.t(key, { max: param, count: Number(param) });
    };
    next();
  };
}
