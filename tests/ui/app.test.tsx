// @vitest-environment jsdom
import { act, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { App } from '../../renderer/App.tsx';
import { parseRoute, routeHash } from '../../renderer/hooks/useHashRoute.ts';
import { FakeApi, idleStatus, makeRecord } from './fake-api.ts';
import { fakeLayout, renderWithI18n } from './render.tsx';

fakeLayout();

describe('App shell', () => {
  it('always shows the decision-support line and navigates between views', async () => {
    const api = new FakeApi([makeRecord({ id: 1 })]);
    renderWithI18n(<App api={api} debounceMs={0} />);
    expect(screen.getByTestId('disclaimer')).toHaveTextContent('Decision support, not a diagnosis.');
    await screen.findByTestId('live-result');
    expect(screen.getByRole('link', { name: 'Live' })).toHaveAttribute('aria-current', 'page');
    await userEvent.click(screen.getByRole('link', { name: 'Board' }));
    await waitFor(() => expect(screen.getByTestId('board-count')).toHaveTextContent('1 result'));
    expect(window.location.hash).toBe('#/board');
    await userEvent.click(screen.getByRole('link', { name: 'Settings' }));
    expect(await screen.findByTestId('model-card')).toBeInTheDocument();
    expect(screen.getByTestId('disclaimer')).toBeVisible();
  });

  it('says in the status bar when the database is unreachable, how much waits, and when it catches up', async () => {
    const api = new FakeApi([makeRecord({ id: 1 })]);
    renderWithI18n(<App api={api} debounceMs={0} />);
    await screen.findByTestId('live-result');
    const state = await screen.findByTestId('database-state');
    expect(state).toHaveTextContent('Database connected');
    const since = new Date(2026, 10, 30, 9, 41).toISOString();
    act(() =>
      api.emit({
        type: 'status',
        status: idleStatus({ database: { state: 'unreachable', since, waiting: 12 } }),
      }),
    );
    expect(state).toHaveTextContent(/Database unreachable since 09:41/);
    expect(state).toHaveTextContent('12 results waiting to be written');
    act(() =>
      api.emit({
        type: 'status',
        status: idleStatus({ database: { state: 'catching_up', since, waiting: 3 } }),
      }),
    );
    expect(state).toHaveTextContent('Writing queued results: 3 left');
    await userEvent.selectOptions(screen.getByTestId('language-select'), 'ko');
    await waitFor(() => expect(state).toHaveTextContent('대기 중인 결과 저장 중: 3건 남음'));
    act(() => api.emit({ type: 'status', status: idleStatus() }));
    expect(state).toHaveTextContent('데이터베이스 연결됨');
  });

  it('switches the whole UI to Korean and saves the choice', async () => {
    const api = new FakeApi([makeRecord({ id: 1, modelLabel: 'aom' })]);
    renderWithI18n(<App api={api} />);
    await screen.findByTestId('live-result');
    await userEvent.selectOptions(screen.getByTestId('language-select'), 'ko');
    await waitFor(() => expect(screen.getByRole('link', { name: '판독 기록' })).toBeInTheDocument());
    expect(screen.getByTestId('disclaimer')).toHaveTextContent('진단 보조 도구이며 진단이 아닙니다.');
    expect(screen.getByRole('heading', { level: 2 })).toHaveTextContent('급성 중이염');
    expect(document.documentElement.lang).toBe('ko');
    expect(api.callsTo('settings.update')).toContainEqual({ language: 'ko' });
  });

  it('starts in the saved language, whatever the browser prefers', async () => {
    const api = new FakeApi();
    api.settings.language = 'ko';
    renderWithI18n(<App api={api} preferredLanguages={['en-US', 'en']} />, 'en');
    expect(await screen.findByRole('link', { name: '실시간' })).toBeInTheDocument();
  });

  it.each([
    [['ko-KR', 'en-US'], '실시간'],
    [['en-GB'], 'Live'],
    [['fr-FR', 'de'], 'Live'],
    [['fr-FR', 'ko'], '실시간'],
  ])('with no saved language, follows the browser %j', async (languages, live) => {
    const api = new FakeApi();
    api.settings.language = null;
    renderWithI18n(<App api={api} preferredLanguages={languages} />, live === 'Live' ? 'ko' : 'en');
    expect(await screen.findByRole('link', { name: live })).toBeInTheDocument();
    expect(api.callsTo('settings.update')).toEqual([]);
  });

  it('shows where to switch the language, in both languages', async () => {
    const api = new FakeApi();
    api.settings.language = 'ko';
    renderWithI18n(<App api={api} />, 'ko');
    await screen.findByText(/첫 영상을 기다리는 중/);
    expect(screen.getByText('Language · 언어')).toBeVisible();
    expect(screen.getByRole('combobox', { name: '언어' })).toHaveValue('ko');
  });

  it('opens the detail view from the board and comes back with the filters kept', async () => {
    const api = new FakeApi([
      makeRecord({ id: 1, modelLabel: 'aom' }),
      makeRecord({ id: 2, modelLabel: 'normal' }),
    ]);
    window.location.hash = '#/board';
    renderWithI18n(<App api={api} debounceMs={0} />);
    await screen.findByText('2 results');
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Label' }), 'normal');
    await screen.findByText('1 result');
    const row = await screen.findByRole('row', { name: /Normal/ });
    await userEvent.click(row);
    expect(await screen.findByTestId('detail-view')).toHaveAttribute('data-record-id', '2');
    expect(window.location.hash).toBe('#/detail/2');
    await userEvent.click(screen.getByRole('button', { name: /Back to board/ }));
    expect(await screen.findByText('1 result')).toBeInTheDocument();
    expect(screen.getByRole('combobox', { name: 'Label' })).toHaveValue('normal');
  });

  it('goes from an exam to its report and back, and to its visit', async () => {
    const api = new FakeApi([makeRecord({ id: 5, patientId: 'P5', capturedAt: '2026-11-25T12:00:00.000Z' })]);
    api.settings.clinicName = 'Seoul Ear Clinic';
    window.location.hash = '#/detail/5';
    renderWithI18n(<App api={api} />);
    await screen.findByTestId('detail-view');
    await userEvent.click(screen.getByRole('button', { name: 'Report…' }));
    expect(await screen.findByTestId('report-page')).toHaveTextContent('Seoul Ear Clinic');
    expect(window.location.hash).toBe('#/report/5');
    // The app's header and disclaimer bar are screen-only; the report carries its own sentence.
    expect(screen.getByTestId('disclaimer')).toHaveClass('no-print');
    await userEvent.click(screen.getByRole('button', { name: /Back/ }));
    expect(await screen.findByTestId('detail-view')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Visit: both ears' }));
    expect(await screen.findByTestId('visit-view')).toBeInTheDocument();
    expect(window.location.hash).toMatch(/^#\/visit\/P5\/2026-11-2[56]$/);
  });

  it('follows the desktop menu', async () => {
    const api = new FakeApi();
    let navigate: ((view: 'live' | 'board' | 'settings') => void) | null = null;
    const shell = {
      onNavigate(listener: (view: 'live' | 'board' | 'settings') => void) {
        navigate = listener;
        return () => (navigate = null);
      },
    };
    renderWithI18n(<App api={api} shell={shell} />);
    await screen.findByText(/Waiting for the first image/);
    act(() => navigate?.('settings'));
    expect(await screen.findByTestId('model-card')).toBeInTheDocument();
  });

  it('explains a refused token instead of showing an empty screen', async () => {
    const api = new FakeApi();
    api.failures.set('settings.get', { code: 'unauthorized', message: 'Missing or wrong access token.' });
    renderWithI18n(<App api={api} />);
    expect(await screen.findByRole('alert')).toHaveTextContent(
      /Access refused: the link's token is missing or wrong/,
    );
  });

  it('parses and writes hash routes', () => {
    expect(parseRoute('#/detail/42')).toEqual({ view: 'detail', id: 42 });
    expect(parseRoute('#/board?x=1')).toEqual({ view: 'board' });
    expect(parseRoute('#/detail/abc')).toEqual({ view: 'live' });
    expect(parseRoute('')).toEqual({ view: 'live' });
    expect(routeHash({ view: 'detail', id: 7 })).toBe('#/detail/7');
    expect(parseRoute('#/visit/P%2012/2026-11-25')).toEqual({
      view: 'visit',
      patientId: 'P 12',
      day: '2026-11-25',
    });
    expect(routeHash({ view: 'visit', patientId: 'P 12', day: '2026-11-25' })).toBe(
      '#/visit/P%2012/2026-11-25',
    );
    expect(parseRoute('#/visit/P1/yesterday')).toEqual({ view: 'live' });
    expect(parseRoute('#/report/4,7')).toEqual({ view: 'report', ids: [4, 7] });
    expect(routeHash({ view: 'report', ids: [4, 7] })).toBe('#/report/4,7');
    expect(parseRoute('#/report/x')).toEqual({ view: 'live' });
  });
});

describe('password sign-in for a shared workstation', () => {
  it('trades the password for the token and opens the app with it', async () => {
    const { LoginForm } = await import('../../renderer/components/LoginForm.tsx');
    const opened: string[] = [];
    const tried: string[] = [];
    renderWithI18n(
      <LoginForm
        login={async (password) => {
          tried.push(password);
          return password === 'correct horse'
            ? { ok: true, token: 'tok123' }
            : { ok: false, message: 'Wrong password.' };
        }}
        open={(token) => opened.push(token)}
      />,
    );
    const field = screen.getByLabelText('Password');
    await userEvent.type(field, 'guess');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Sign-in failed: Wrong password.');
    await userEvent.clear(field);
    await userEvent.type(field, 'correct horse');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await waitFor(() => expect(opened).toEqual(['tok123']));
    expect(tried).toEqual(['guess', 'correct horse']);
  });

  it('is offered when the token is refused in a browser', async () => {
    const api = new FakeApi();
    api.failures.set('settings.get', { code: 'unauthorized', message: 'Missing or wrong access token.' });
    renderWithI18n(<App api={api} />);
    expect(await screen.findByRole('heading', { name: 'Sign in' })).toBeInTheDocument();
  });
});
