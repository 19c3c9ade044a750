import i18next, { type i18n as I18n } from 'i18next';
import { initReactI18next } from 'react-i18next';
import { en, ko } from './resources.ts';

export const LANGUAGES = ['ko', 'en'] as const;
export type UiLanguage = (typeof LANGUAGES)[number];

export function isUiLanguage(value: unknown): value is UiLanguage {
  return value === 'ko' || value === 'en';
}

/** A fresh i18next instance (tests create their own so languages never leak between them). */
export function createI18n(language: UiLanguage): I18n {
  const instance = i18next.createInstance();
  void instance.use(initReactI18next).init({
    resources: { en: { translation: en }, ko: { translation: ko } },
    lng: language,
    fallbackLng: 'en',
    interpolation: { escapeValue: false },
    returnNull: false,
    initAsync: false,
  });
  return instance;
}

/**
 * The language to start in: the one the user chose in the app, else the first of the browser's (or, in
 * the desktop app, the operating system's) preferred languages that we have, else English.
 */
export function startLanguage(
  saved: UiLanguage | null | undefined,
  languages: readonly string[],
): UiLanguage {
  if (saved) return saved;
  for (const tag of languages) {
    const base = tag.toLowerCase().split('-')[0];
    if (isUiLanguage(base)) return base;
  }
  return 'en';
}
