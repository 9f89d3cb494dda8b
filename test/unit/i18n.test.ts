import i18next from 'i18next';
import { LOCALES } from '../../src/config';
import en from '../../src/i18n/en.json';
import fr from '../../src/i18n/fr.json';
import { translator } from '../../src/i18n';

/** i18next itself, set up as the app's instance is. */
const reference = i18next.createInstance();
void reference.init({
  resources: { fr: { translation: fr }, en: { translation: en } },
  lng: 'fr',
  fallbackLng: 'fr',
  initAsync: false,
  interpolation: { escapeValue: false },
  showSupportNotice: false,
} as Parameters<typeof reference.init>[0]);

/** Every message of a catalogue, by dotted key. */
function messages(tree: object, prefix = ''): [string, string][] {
  return Object.entries(tree).flatMap(([k, v]) =>
    typeof v === 'string' ? [[prefix + k, v] as [string, string]] : messages(v, `${prefix}${k}.`),
  );
}

describe('translations with values', () => {
  it('fill every message of both languages exactly as i18next does', () => {
    let checked = 0;
    for (const locale of LOCALES) {
      const t = translator(locale);
      const ref = reference.getFixedT(locale);
      for (const [key, text] of messages(locale === 'fr' ? fr : en)) {
        const names = [...text.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]);
        if (!names.length || names.includes('count') || /_(one|other|zero|many)$/.test(key))
          continue;
        const values = Object.fromEntries(names.map((n, i) => [n, i % 2 ? i : `<${n}> & "x"`]));
        expect(t(key, values)).toBe(ref(key, values));
        // A value missing, a value holding braces, an option: i18next decides.
        const [first, ...rest] = names;
        const partial = Object.fromEntries(rest.map((n) => [n, n]));
        expect(t(key, partial)).toBe(ref(key, partial));
        expect(t(key, { ...values, [first]: '{{x}}' })).toBe(
          ref(key, { ...values, [first]: '{{x}}' }),
        );
        expect(t(key, { ...values, defaultValue: 'd' })).toBe(
          ref(key, { ...values, defaultValue: 'd' }),
        );
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('leave plurals to i18next', () => {
    for (const locale of LOCALES) {
      expect(translator(locale)('auth.login.throttled', { count: 2 })).toMatch(/2/);
      for (const count of [0, 1, 2, 5]) {
        expect(translator(locale)('auth.login.throttled', { count })).toBe(
          reference.getFixedT(locale)('auth.login.throttled', { count }),
        );
      }
    }
  });
});
