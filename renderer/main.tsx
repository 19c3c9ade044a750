import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { I18nextProvider } from 'react-i18next';
import { createApiClient } from './api/index.ts';
import { App } from './App.tsx';
import { createI18n, startLanguage } from './i18n/index.ts';
import './styles.css';

declare global {
  interface Window {
    eardrumShell?: { onNavigate(listener: (view: 'live' | 'board' | 'settings') => void): () => void };
  }
}

// The saved setting replaces this as soon as it loads; until then follow the browser.
const i18n = createI18n(startLanguage(null, navigator.languages));
const api = createApiClient(window);
const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
createRoot(root).render(
  <StrictMode>
    <I18nextProvider i18n={i18n}>
      <App api={api} shell={window.eardrumShell} />
    </I18nextProvider>
  </StrictMode>,
);
