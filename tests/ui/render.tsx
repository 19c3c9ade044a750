import '@testing-library/jest-dom/vitest';
import { cleanup, configure, render, type RenderResult } from '@testing-library/react';
import type { ReactElement } from 'react';
import { I18nextProvider } from 'react-i18next';
import { afterEach, beforeAll } from 'vitest';
import { createI18n, type UiLanguage } from '../../renderer/i18n/index.ts';

/**
 * jsdom lays nothing out, so every element measures 0×0 and the virtualized table would render no
 * rows. Give elements a fixed size (a 1280×600 viewport) so the virtualizer behaves as in a browser.
 */
export function fakeLayout(): void {
  beforeAll(() => {
    for (const [prop, value] of [
      ['clientHeight', 600],
      ['clientWidth', 1280],
      ['offsetHeight', 600],
      ['offsetWidth', 1280],
    ] as const) {
      Object.defineProperty(HTMLElement.prototype, prop, { configurable: true, get: () => value });
    }
  });
}

// findBy* and waitFor give up after 1 s by default; on a loaded 2-core CI machine the first render of a file
// (cold imports, i18n, the virtualized table) can take longer than that without anything being wrong.
configure({ asyncUtilTimeout: 5000 });

afterEach(() => {
  cleanup();
  window.location.hash = '';
  if (typeof localStorage !== 'undefined') localStorage.clear();
});

export function renderWithI18n(ui: ReactElement, language: UiLanguage = 'en') {
  const i18n = createI18n(language);
  const result: RenderResult = render(<I18nextProvider i18n={i18n}>{ui}</I18nextProvider>);
  return { ...result, i18n };
}
