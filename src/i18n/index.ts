/**
 * i18next setup. Strings live in ./locales/<lang>.ts; adding a language = one file of
 * the same shape plus one line in RESOURCES. Everything is bundled (no HTTP backend):
 * the app must work offline from the first visit.
 */
import i18next from 'i18next';
import { initReactI18next } from 'react-i18next';
import en from './locales/en';
import zh from './locales/zh';
import es from './locales/es';

export const RESOURCES = { en: { translation: en }, zh: { translation: zh }, es: { translation: es } } as const;
export const LANGUAGES = Object.keys(RESOURCES) as (keyof typeof RESOURCES)[];

export function initI18n(lng = 'en'): typeof i18next {
  if (!i18next.isInitialized) {
    void i18next.use(initReactI18next).init({
      resources: RESOURCES,
      lng: LANGUAGES.includes(lng as never) ? lng : 'en',
      fallbackLng: 'en',
      interpolation: { escapeValue: false }, // React escapes
      returnNull: false,
      initAsync: false,
    });
  }
  return i18next;
}

/**
 * The gradability gate's reasons in the reader's language. A result stores the gate's English
 * sentence and its code; the code picks the translation, and a code this version does not know
 * (an import from a newer one) keeps the stored sentence.
 */
export function qualityReasons(
  t: (key: string, o?: Record<string, unknown>) => string,
  q: { codes: readonly string[]; reasons: readonly string[] },
): string[] {
  return q.reasons.map((reason, i) => (q.codes[i] ? t(`quality.code.${q.codes[i]}`, { defaultValue: reason }) : reason));
}

/** True when the gate doubts the photo shows a retina at all: "retake with better light" would be the wrong advice. */
export function doubtsRetina(codes: readonly string[]): boolean {
  return codes.includes('no-fov') || codes.includes('not-fundus');
}
