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

export function translator(locale: Locale): TFunction {
  return i18n.getFixedT(locale);
}

export function isLocale(v: unknown): v is Locale {
  return typeof v === 'string' && (LOCALES as readonly string[]).includes(v);
}

export const LOCALE_COOKIE = 'guichet.lang';
