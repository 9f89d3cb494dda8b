import i18next, { type TFunction } from 'i18next';
import { BoundedMap } from '../bounded-map';
import { LOCALES, type Locale } from '../config';
import en from './en.json';
import fr from './fr.json';

export type { TFunction };

const i18n = i18next.createInstance();
void i18n.init({
  resources: { fr: { translation: fr }, en: { translation: en } },
  lng: 'fr',
  fallbackLng: 'fr',
  supportedLngs: [...LOCALES],
  initAsync: false,
  // EJS escapes on output; escaping here too would double-escape.
  interpolation: { escapeValue: false },
  returnNull: false,
  showSupportNotice: false,
} as Parameters<typeof i18n.init>[0]);

/**
 * Messages already looked up without options, per locale. A list page asks for the same few
 * labels once per row (status, priority, column names: hundreds of calls), and i18next resolves
 * a key through namespaces, fallbacks and nesting at every call. The catalogues never change
 * while the process runs; the bound only guards against keys built from unexpected input.
 */
const PLAIN_CACHE_MAX = 5000;
const fixed = Object.fromEntries(
  LOCALES.map((l) => {
    const t = i18n.getFixedT(l);
    const full = t as unknown as (...args: unknown[]) => unknown;
    const plain = new BoundedMap<string, string>(PLAIN_CACHE_MAX);
    const translate = (key: string): string => String(t(key));
    const message = (key: string): string => plain.remember(key, translate);
    // Named parameters rather than `...rest`, and no closure per call: a list page makes
    // hundreds of these calls, and each array or closure made is work for the collector.
    // i18next's `t` takes at most three arguments (key, default value, options).
    const lookup = (key: unknown, options?: unknown, more?: unknown): unknown => {
      if (typeof key === 'string' && more === undefined) {
        if (options === undefined) return message(key);
        const text = interpolate(message(key), options);
        if (text !== undefined) return text;
      }
      return more === undefined ? full(key, options) : full(key, options, more);
    };
    return [l, Object.assign(lookup, { lng: l }) as unknown as TFunction];
  }),
) as Record<Locale, TFunction>;

/** Option names of i18next's `t`: a call with any of them (plurals, context…) goes to i18next. */
const T_OPTIONS = new Set([
  'count',
  'context',
  'defaultValue',
  'lng',
  'lngs',
  'ns',
  'ordinal',
  'returnObjects',
  'returnDetails',
  'joinArrays',
  'postProcess',
  'interpolation',
  'replace',
  'keySeparator',
  'nsSeparator',
  'fallbackLng',
]);
const PLACEHOLDER = /\{\{(\w+)\}\}/g;

/**
 * A message with its `{{name}}` placeholders filled in, as i18next fills them (values as
 * text, nothing escaped: EJS escapes on output), or undefined when i18next must do it: a
 * plural or another option, a value that is not plain text or a number, a placeholder left
 * without a value, or any other `{{…}}` form. A timeline page asks for hundreds of these.
 */
function interpolate(message: string, values: unknown): string | undefined {
  if (typeof values !== 'object' || values === null || Array.isArray(values)) return undefined;
  const given = values as Record<string, unknown>;
  for (const name in given) if (T_OPTIONS.has(name)) return undefined;
  let complete = true;
  const text = message.replace(PLACEHOLDER, (_, name: string) => {
    const value = Object.hasOwn(given, name) ? given[name] : undefined;
    if (typeof value === 'string' || typeof value === 'number') return String(value);
    complete = false;
    return '';
  });
  return complete && !text.includes('{{') && !message.includes('$t(') ? text : undefined;
}

export function translator(locale: Locale): TFunction {
  return fixed[locale];
}

export function isLocale(v: unknown): v is Locale {
  return typeof v === 'string' && (LOCALES as readonly string[]).includes(v);
}

export const LOCALE_COOKIE = 'guichet.lang';
