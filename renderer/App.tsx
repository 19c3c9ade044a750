import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { AppInfo, DatabaseConnection, ModelCardView, Settings } from '../common/contract.ts';
import type { ApiClient } from './api/client.ts';
import { DatabaseState } from './components/DatabaseState.tsx';
import { LoginForm } from './components/LoginForm.tsx';
import { errorText } from './errors.ts';
import { isUiLanguage, startLanguage, type UiLanguage } from './i18n/index.ts';
import { useHashRoute, type Route } from './hooks/useHashRoute.ts';
import { BoardView, INITIAL_BOARD, type BoardState } from './views/BoardView.tsx';
import { DetailView } from './views/DetailView.tsx';
import { LiveView } from './views/LiveView.tsx';
import { ReportView } from './views/ReportView.tsx';
import { SettingsView } from './views/SettingsView.tsx';
import { VisitView } from './views/VisitView.tsx';

interface ShellBridge {
  onNavigate(listener: (view: 'live' | 'board' | 'settings') => void): () => void;
}

interface Props {
  api: ApiClient;
  /** Electron's menu bridge, when running inside the desktop shell. */
  shell?: ShellBridge;
  debounceMs?: number;
  /** The browser's (desktop app: the operating system's) preferred languages, best first. */
  preferredLanguages?: readonly string[];
}

export function App({ api, shell, debounceMs, preferredLanguages = navigator.languages }: Props) {
  const { t, i18n } = useTranslation();
  const [route, navigate] = useHashRoute();
  const [settings, setSettings] = useState<Settings | null>(null);
  const [card, setCard] = useState<ModelCardView | null>(null);
  const [info, setInfo] = useState<AppInfo | null>(null);
  const [fatal, setFatal] = useState<{ code: string; text: string } | null>(null);
  const [connected, setConnected] = useState(true);
  const [database, setDatabase] = useState<DatabaseConnection | null>(null);
  const [board, setBoard] = useState<BoardState>(INITIAL_BOARD);
  const main = useRef<HTMLElement>(null);
  /** Where a report was opened from, to go back there. */
  const beforeReport = useRef<Route | null>(null);

  useEffect(() => {
    let cancelled = false;
    void (async () => {
      const [s, c, a] = await Promise.all([
        api.call('settings.get', {}),
        api.call('model.card', {}),
        api.call('app.info', {}),
      ]);
      if (cancelled) return;
      if (!s.ok) {
        setFatal({ code: s.error.code, text: errorText(t, s.error) });
        return;
      }
      setSettings(s.value);
      const language = startLanguage(s.value.language, preferredLanguages);
      if (language !== i18n.language) void i18n.changeLanguage(language);
      if (c.ok) setCard(c.value);
      if (a.ok) {
        setInfo(a.value);
        setDatabase((d) => d ?? a.value.engine.database);
      }
    })();
    return () => {
      cancelled = true;
    };
    // Loaded once per client; language changes must not refetch.
  }, [api]);

  useEffect(() => api.onConnection?.(setConnected), [api]);
  useEffect(() => shell?.onNavigate((view) => navigate({ view })), [shell, navigate]);
  useEffect(() => {
    document.documentElement.lang = i18n.language;
    document.title = t('app.title');
  }, [i18n.language, t]);
  useEffect(
    () =>
      api.onEvent((event) => {
        if ('status' in event) setDatabase(event.status.database);
        if (event.type === 'settings') setSettings(event.settings);
        else if (event.type === 'model.changed') {
          // New results come from another model now: its card and the app info follow.
          void api.call('model.card', {}).then((c) => c.ok && setCard(c.value));
          void api.call('app.info', {}).then((a) => a.ok && setInfo(a.value));
        }
      }),
    [api],
  );

  function go(next: Route) {
    if (next.view === 'report' && route.view !== 'report') beforeReport.current = route;
    navigate(next);
    main.current?.focus();
  }
  const openVisit = (patientId: string, day: string) => go({ view: 'visit', patientId, day });
  const openReport = (ids: number[]) => go({ view: 'report', ids });

  async function changeLanguage(language: UiLanguage) {
    await i18n.changeLanguage(language);
    const r = await api.call('settings.update', { language });
    if (r.ok) setSettings(r.value);
  }

  const labels = card?.labels;
  const tabs = [
    { view: 'live', title: t('nav.live') },
    { view: 'board', title: t('nav.board') },
    { view: 'settings', title: t('nav.settings') },
  ] as const;
  const active =
    route.view === 'detail' || route.view === 'visit' || route.view === 'report' ? 'board' : route.view;

  let content;
  if (fatal) {
    content = (
      <>
        <p className="notice notice-error" role="alert">
          {t('app.loadFailed', { message: fatal.text })}
        </p>
        {fatal.code === 'unauthorized' && api.transport === 'http' && <LoginForm />}
      </>
    );
  } else if (!settings) {
    content = <p className="muted">{t('common.loading')}</p>;
  } else if (route.view === 'live') {
    content = <LiveView api={api} card={labels} onOpen={(id) => go({ view: 'detail', id })} />;
  } else if (route.view === 'board') {
    content = (
      <BoardView
        api={api}
        card={labels}
        state={board}
        onState={setBoard}
        onOpen={(id) => go({ view: 'detail', id })}
        onVisit={openVisit}
        debounceMs={debounceMs}
      />
    );
  } else if (route.view === 'detail') {
    content = (
      <DetailView
        api={api}
        id={route.id}
        card={labels}
        reviewerName={settings.reviewerName}
        onBack={() => go({ view: 'board' })}
        onVisit={openVisit}
        onReport={openReport}
      />
    );
  } else if (route.view === 'visit') {
    content = (
      <VisitView
        api={api}
        patientId={route.patientId}
        day={route.day}
        card={labels}
        onOpen={(id) => go({ view: 'detail', id })}
        onVisit={openVisit}
        onReport={openReport}
        onBack={() => go({ view: 'board' })}
      />
    );
  } else if (route.view === 'report') {
    content = (
      <ReportView
        api={api}
        ids={route.ids}
        card={labels}
        clinicName={settings.clinicName}
        appVersion={info?.appVersion}
        onBack={() =>
          go(
            beforeReport.current ??
              (route.ids.length === 1 ? { view: 'detail', id: route.ids[0]! } : { view: 'board' }),
          )
        }
      />
    );
  } else {
    content = (
      <SettingsView
        api={api}
        card={card}
        settings={settings}
        onSaved={(s) => {
          setSettings(s);
          const language = startLanguage(s.language, preferredLanguages);
          if (language !== i18n.language) void i18n.changeLanguage(language);
        }}
        dataDir={info?.dataDir}
        debounceMs={debounceMs}
      />
    );
  }

  return (
    <div className="app">
      <a className="skip-link" href="#main" onClick={(e) => (e.preventDefault(), main.current?.focus())}>
        {t('app.skipToContent')}
      </a>
      <header className="app-header no-print">
        <h1 className="app-title">{t('app.title')}</h1>
        <nav aria-label={t('nav.main')}>
          <ul className="tabs">
            {tabs.map((tab) => (
              <li key={tab.view}>
                <a
                  href={`#/${tab.view}`}
                  aria-current={active === tab.view ? 'page' : undefined}
                  onClick={(e) => {
                    e.preventDefault();
                    go({ view: tab.view });
                  }}
                >
                  {tab.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div className="header-tools">
          <span className={connected ? 'connection ok' : 'connection lost'} role="status">
            {connected ? t('app.connection.live') : t('app.connection.lost')}
          </span>
          {database && <DatabaseState status={database} />}
          <label className="language-select">
            {/* Both words, so a reader of either language finds the switch whatever the UI speaks. */}
            <span aria-hidden="true">Language · 언어</span>
            <select
              value={i18n.language}
              onChange={(e) => isUiLanguage(e.target.value) && void changeLanguage(e.target.value)}
              aria-label={t('app.language')}
              data-testid="language-select"
            >
              <option value="ko">한국어</option>
              <option value="en">English</option>
            </select>
          </label>
        </div>
      </header>
      <p className="disclaimer no-print" role="note" data-testid="disclaimer">
        {t('app.disclaimer')}
      </p>
      <main id="main" ref={main} tabIndex={-1} className={`view view-${route.view}`}>
        {content}
      </main>
    </div>
  );
}
