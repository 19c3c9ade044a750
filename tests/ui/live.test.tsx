// @vitest-environment jsdom
import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { LiveView } from '../../renderer/views/LiveView.tsx';
import { FakeApi, LABELS, idleStatus, makeRecord } from './fake-api.ts';
import { renderWithI18n } from './render.tsx';

function setup(api: FakeApi, language: 'en' | 'ko' = 'en') {
  const opened: number[] = [];
  const view = renderWithI18n(
    <LiveView api={api} card={LABELS} onOpen={(id) => opened.push(id)} />,
    language,
  );
  return { ...view, opened };
}

describe('Live view', () => {
  it('shows the newest result: label in words, every probability, heatmap, patient, ear and model', async () => {
    const api = new FakeApi([makeRecord({ id: 7, modelLabel: 'aom', patientId: 'P0007', ear: 'right' })]);
    setup(api);
    const card = await screen.findByTestId('live-result');
    expect(within(card).getByRole('heading', { level: 2 })).toHaveTextContent('Acute otitis media');
    const bars = within(card).getAllByRole('meter');
    expect(bars).toHaveLength(LABELS.length);
    expect(bars[0]).toHaveAccessibleName('Acute otitis media');
    expect(bars[0]).toHaveAttribute('aria-valuetext', '87.0%');
    // The photo first: the heatmap is off until asked for.
    expect(within(card).queryByTestId('heatmap-overlay')).toBeNull();
    expect(within(card).getByTestId('photo')).toHaveAttribute('src', 'http://fake/files/original/7');
    expect(within(card).getByTestId('fact-patient')).toHaveTextContent('P0007');
    expect(within(card).getByTestId('fact-ear')).toHaveTextContent('Right');
    expect(card).toHaveTextContent('eardrum-mnv2 v1.2.0');
    expect(card).toHaveTextContent('Eardrum found. This is the model’s reading, for a clinician to check.');
    expect(card).not.toHaveTextContent(/likelihood/);
    expect(screen.getByText('Watching /inbox')).toBeInTheDocument();
  });

  it('says "Not sure, needs a clinician" instead of a label when the model is not sure, probabilities below', async () => {
    const api = new FakeApi([
      makeRecord({ id: 8, modelLabel: 'earwax', confidence: 0.34, decision: 'not_sure' }),
    ]);
    setup(api);
    const card = await screen.findByTestId('live-result');
    const headline = within(card).getByRole('heading', { level: 2 });
    expect(headline).toHaveTextContent('Not sure, needs a clinician');
    expect(headline).not.toHaveTextContent('Earwax');
    expect(card).toHaveTextContent('Why: no condition likely enough, photo unlike the training photos.');
    // No "Most likely" line that reads like an answer; every probability, below the headline.
    expect(card).not.toHaveTextContent('Most likely');
    const bars = within(card).getAllByRole('meter');
    expect(bars).toHaveLength(LABELS.length);
    expect(bars[0]).toHaveAccessibleName('Earwax');
    expect(bars[0]).toHaveAttribute('aria-valuetext', '34.0%');
    expect(headline.compareDocumentPosition(bars[0]!) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
  });

  it('toggles the heatmap and its opacity, and remembers both for this user', async () => {
    const api = new FakeApi([makeRecord({ id: 3 })]);
    const first = setup(api);
    await screen.findByTestId('live-result');
    const slider = screen.getByRole('slider', { name: 'Heatmap opacity' });
    expect(slider).toBeDisabled();
    await userEvent.click(screen.getByRole('checkbox', { name: 'Show where the model looked' }));
    const overlay = await screen.findByTestId('heatmap-overlay');
    expect(overlay).toHaveAttribute('src', 'http://fake/files/overlay/3');
    expect(overlay.style.opacity).toBe('0.7');
    fireEvent.change(slider, { target: { value: '30' } });
    expect(overlay.style.opacity).toBe('0.3');
    // Next time (Live or Detail), the same choice.
    first.unmount();
    setup(api);
    expect((await screen.findByTestId('heatmap-overlay')).style.opacity).toBe('0.3');
    await userEvent.click(screen.getByRole('checkbox', { name: 'Show where the model looked' }));
    expect(screen.queryByTestId('heatmap-overlay')).toBeNull();
    expect(screen.getByRole('slider', { name: 'Heatmap opacity' })).toBeDisabled();
  });

  it('shows the photo at its own aspect ratio, with the heatmap layer in the same box', async () => {
    const api = new FakeApi([makeRecord({ id: 21, width: 1280, height: 960 })]);
    setup(api);
    const frame = await screen.findByTestId('photo-frame');
    expect(frame.style.aspectRatio).toBe('1280 / 960');
    expect(screen.getByTestId('photo')).toHaveAttribute('width', '1280');
    await userEvent.click(screen.getByRole('checkbox', { name: 'Show where the model looked' }));
    // The layer is a sibling of the photo inside the frame, stretched over it (CSS: inset 0, 100%).
    expect(screen.getByTestId('heatmap-overlay').parentElement).toBe(frame);
    expect(screen.getByTestId('heatmap-overlay')).toHaveClass('heatmap-layer');
  });

  it('says so, and requests nothing, when the library holds no copy of the photo', async () => {
    const api = new FakeApi([
      makeRecord({ id: 22, status: 'failed', gate: null, hasOriginal: false, hasOverlay: false }),
    ]);
    setup(api);
    await screen.findByTestId('live-result');
    expect(screen.queryByTestId('photo')).toBeNull();
    expect(
      screen.getAllByRole('img', { name: 'No picture: the file could not be read' }).length,
    ).toBeGreaterThan(0);
  });

  it('replaces the result when the engine reports a new one, and says plainly when there is no eardrum', async () => {
    const api = new FakeApi([makeRecord({ id: 1 })]);
    setup(api);
    await screen.findByTestId('live-result');
    const photo = makeRecord({ id: 2, gate: 'not_eardrum', modelLabel: null, fileName: 'cat.jpg' });
    api.records.push(photo);
    act(() => api.emit({ type: 'done', record: photo, status: idleStatus({ done: 2 }) }));
    await waitFor(() => expect(screen.getByTestId('live-result')).toHaveAttribute('data-record-id', '2'));
    expect(screen.getByRole('heading', { level: 2 })).toHaveTextContent('No eardrum found');
    expect(
      screen.getByText(/does not look like an eardrum \(eardrum likelihood 4\.0%\)/),
    ).toBeInTheDocument();
    expect(screen.queryAllByRole('meter')).toHaveLength(0);
    expect(screen.queryByTestId('heatmap-overlay')).toBeNull();
  });

  it('names the reason for an ungradable picture', async () => {
    const api = new FakeApi([
      makeRecord({ id: 4, gate: 'ungradable', gateReason: 'too_dark', modelLabel: null }),
    ]);
    setup(api);
    expect(await screen.findByRole('heading', { level: 2 })).toHaveTextContent('Image too dark');
  });

  it('shows burst progress with counts and an ETA, then idles', async () => {
    const api = new FakeApi([]);
    setup(api);
    await screen.findByText(/Waiting for the first image/);
    act(() => api.emit({ type: 'status', status: idleStatus({ done: 10 }) }));
    act(() =>
      api.emit({
        type: 'queued',
        path: '/inbox/a.jpg',
        status: idleStatus({ done: 13, queued: 6, processing: 1, etaMs: 4000 }),
      }),
    );
    const progress = await screen.findByTestId('queue-progress');
    expect(progress).toHaveTextContent('3 of 10 analysed');
    expect(progress).toHaveTextContent(/about 4\s?secs? left/);
    act(() => api.emit({ type: 'status', status: idleStatus({ done: 20 }) }));
    expect(await screen.findByTestId('queue-idle')).toHaveTextContent('Queue idle');
  });

  it('counts only this burst’s failures, and shows files still being written as waiting', async () => {
    const api = new FakeApi([]);
    // One failure from an earlier hour, and 7 photos noticed but still being written.
    api.status = idleStatus({ done: 40, failed: 1 });
    setup(api);
    expect(await screen.findByTestId('queue-idle')).toBeInTheDocument();
    act(() => api.emit({ type: 'status', status: idleStatus({ done: 40, failed: 1, queued: 7 }) }));
    const progress = await screen.findByTestId('queue-progress');
    expect(progress).toHaveTextContent('0 of 7 analysed');
    expect(progress).not.toHaveTextContent('failed');
    act(() =>
      api.emit({ type: 'status', status: idleStatus({ done: 44, failed: 2, queued: 1, processing: 1 }) }),
    );
    expect(progress).toHaveTextContent('5 of 7 analysed');
    expect(progress).toHaveTextContent('1 failed');
  });

  it('diagnoses an image chosen by hand', async () => {
    const api = new FakeApi([]);
    setup(api);
    const file = new File([new Uint8Array([0xff, 0xd8, 0xff, 0xe0])], 'hand.jpg', { type: 'image/jpeg' });
    await userEvent.upload(screen.getByTestId('file-input'), file);
    await waitFor(() => expect(api.callsTo('diagnose.upload')).toHaveLength(1));
    expect(api.callsTo('diagnose.upload')[0]).toEqual({ fileName: 'hand.jpg', dataBase64: '/9j/4A==' });
    expect(await screen.findByRole('heading', { level: 2 })).toHaveTextContent('Normal');
  });

  it('says a photo chosen by hand while the clinic database is away is diagnosed and kept here (English, Korean)', async () => {
    for (const lang of ['en', 'ko'] as const) {
      const api = new FakeApi([]);
      api.databaseAway = true;
      const { unmount } = setup(api, lang);
      const file = new File([new Uint8Array([0xff, 0xd8, 0xff, 0xe0])], 'hand.jpg', { type: 'image/jpeg' });
      await userEvent.upload(screen.getByTestId('file-input'), file);
      const text =
        lang === 'en'
          ? /hand\.jpg: Acute otitis media 87%\. The clinic database cannot be reached, so this photo and its result are saved on this workstation/
          : /hand\.jpg: 급성 중이염 87%\. 병원 공용 데이터베이스에 연결할 수 없어 이 사진과 결과를 이 워크스테이션에 저장했으며/;
      expect(await screen.findByText(text)).toBeInTheDocument();
      unmount();
    }
  });

  it('reports an upload the engine refused, in the user language', async () => {
    const api = new FakeApi([]);
    api.failures.set('diagnose.upload', { code: 'image.not_image', message: 'not an image' });
    setup(api, 'ko');
    await userEvent.upload(
      screen.getByTestId('file-input'),
      new File(['hello'], 'note.jpg', { type: 'image/jpeg' }),
    );
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'note.jpg을(를) 분석하지 못했습니다: 영상 파일이 아닙니다.',
    );
  });

  it('speaks Korean', async () => {
    const api = new FakeApi([makeRecord({ id: 9, modelLabel: 'effusion', ear: 'left' })]);
    setup(api, 'ko');
    expect(await screen.findByRole('heading', { level: 2 })).toHaveTextContent('삼출성 중이염 / 중이 삼출액');
    expect(screen.getByTestId('fact-ear')).toHaveTextContent('좌측');
    expect(screen.getByRole('button', { name: '상세 보기 및 검토' })).toBeInTheDocument();
  });

  it('says the watched folder is missing instead of "Watching", and goes back once the folder is there', async () => {
    const api = new FakeApi([]);
    api.status = idleStatus({
      watching: false,
      error: {
        code: 'watch_dir_missing',
        message: 'The watched folder /inbox does not exist or is not a folder.',
      },
    });
    setup(api);
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'The folder /inbox cannot be found (is the share connected?)',
    );
    expect(screen.queryByText('Watching /inbox')).toBeNull();
    act(() => api.emit({ type: 'status', status: idleStatus({ watching: true, error: null }) }));
    expect(await screen.findByText('Watching /inbox')).toBeInTheDocument();
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('says so in Korean too', async () => {
    const api = new FakeApi([]);
    api.status = idleStatus({ watching: false, error: { code: 'watch_dir_missing', message: 'missing' } });
    setup(api, 'ko');
    expect(await screen.findByRole('alert')).toHaveTextContent('/inbox 폴더를 찾을 수 없습니다');
  });

  it('opens the detail view of the shown record', async () => {
    const api = new FakeApi([makeRecord({ id: 5 })]);
    const { opened } = setup(api);
    await userEvent.click(await screen.findByRole('button', { name: 'Open details and review' }));
    expect(opened).toEqual([5]);
  });
});

describe('Live view queue status', () => {
  it('asks for the status again when the last event of a burst still counted itself as processing', async () => {
    const api = new FakeApi([]);
    renderWithI18n(<LiveView api={api} card={LABELS} onOpen={() => undefined} settleMs={30} />);
    await screen.findByText(/Waiting for the first image/);
    const record = makeRecord({ id: 1 });
    api.records.push(record);
    act(() => api.emit({ type: 'queued', path: '/inbox/a.jpg', status: idleStatus({ queued: 1 }) }));
    act(() => api.emit({ type: 'done', record, status: idleStatus({ done: 1, processing: 1 }) }));
    expect(await screen.findByTestId('queue-progress')).toHaveTextContent('1 of 2 analysed');
    api.status = idleStatus({ done: 1 });
    expect(await screen.findByTestId('queue-idle')).toBeInTheDocument();
  });
});
