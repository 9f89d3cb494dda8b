import i18next, { type TFunction } from 'i18next';
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
    const plain = new Map<string, string>();
    const lookup = (key: unknown, ...rest: unknown[]): unknown => {
      if (rest.length || typeof key !== 'string') {
        return (t as unknown as (...args: unknown[]) => unknown)(key, ...rest);
      }
      let text = plain.get(key);
      if (text === undefined) {
        text = String(t(key));
        if (plain.size < PLAIN_CACHE_MAX) plain.set(key, text);
      }
      return text;
    };
    return [l, Object.assign(lookup, { lng: l }) as unknown as TFunction];
  }),
) as Record<Locale, TFunction>;

export function translator(locale: Locale): TFunction {
  return fixed[locale];
}

export function isLocale(v: unknown): v is Locale {
  return typeof v === 'string' && (LOCALES as readonly string[]).includes(v);
}

export const LOCALE_COOKIE = 'guichet.lang';
