import i18next, { type i18n as I18n } from 'i18next';
import { initReactI18next } from 'react-i18next';
import en from './en.json';
import ko from './ko.json';

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

/** The browser's preferred language when it is one we have, Korean otherwise (the clinic default). */
export function preferredLanguage(languages: readonly string[]): UiLanguage {
  for (const tag of languages) {
    const base = tag.toLowerCase().split('-')[0];
    if (isUiLanguage(base)) return base;
  }
  return 'ko';
}
