import type { NextFunction, Request, Response } from 'express';
import { BoundedMap } from '../bounded-map';
import type { Config } from '../config';
import { noon } from '../dashboard/calendar';

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
    return {
      // Shown to the minute: one string per minute.
      dateTime: remembered((minute: number) => dateTime.format(minute * 60_000)),
      // One cache per unit, of the few amounts each is shown with.
      relative: Object.fromEntries(
        RELATIVE_UNITS.map(([unit]) => [unit, remembered((n: number) => relative.format(n, unit))]),
      ) as Record<Intl.RelativeTimeFormatUnit, (n: number) => string>,
      day: new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeZone: 'UTC' }),
    };
  };
  const byLang = { 'fr-FR': formatters('fr-FR'), 'en-GB': formatters('en-GB') };
  return (req: Request, res: Response, next: NextFunction): void => {
    const { dateTime, relative, day } = byLang[req.locale === 'fr' ? 'fr-FR' : 'en-GB'];
    res.locals.currentUser = req.user ?? null;
    res.locals.currentPath = req.originalUrl;
    res.locals.formatDateTime = (d: Date | string | null) =>
      d ? dateTime(Math.floor(asDate(d).getTime() / 60_000)) : '';
    // Every date of a page is relative to the same moment, read once.
    let now: number | undefined;
    res.locals.formatRelative = (d: Date | string | null) => {
      if (!d) return '';
      now ??= clock().getTime();
      const seconds = (asDate(d).getTime() - now) / 1000;
      for (const [unit, size] of RELATIVE_UNITS) {
        if (Math.abs(seconds) >= size || unit === 'second') {
          return relative[unit](Math.round(seconds / size));
        }
      }
      return '';
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
