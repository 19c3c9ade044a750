// @vitest-environment jsdom
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { VisitView } from '../../renderer/views/VisitView.tsx';
import { FakeApi, LABELS, makeRecord } from './fake-api.ts';
import { renderWithI18n } from './render.tsx';

// Local noon, so the calendar day is the same in every time zone the tests run in.
const at = (day: string, hour = 12) =>
  new Date(`${day}T${String(hour).padStart(2, '0')}:00:00`).toISOString();

function records() {
  return [
    // An earlier visit: the left ear had an effusion three weeks before.
    makeRecord({ id: 1, patientId: 'P7', ear: 'left', modelLabel: 'effusion', capturedAt: at('2026-11-04') }),
    makeRecord({ id: 2, patientId: 'P7', ear: 'right', modelLabel: 'normal', capturedAt: at('2026-11-04') }),
    // Today: both ears, the left one twice, and one photo whose ear is not known.
    makeRecord({
      id: 3,
      patientId: 'P7',
      ear: 'left',
      modelLabel: 'effusion',
      capturedAt: at('2026-11-25', 9),
    }),
    makeRecord({
      id: 4,
      patientId: 'P7',
      ear: 'left',
      modelLabel: 'normal',
      reviewedLabel: 'normal',
      capturedAt: at('2026-11-25', 10),
    }),
    makeRecord({ id: 5, patientId: 'P7', ear: 'right', modelLabel: 'aom', capturedAt: at('2026-11-25', 10) }),
    makeRecord({
      id: 6,
      patientId: 'P7',
      ear: 'unknown',
      modelLabel: 'earwax',
      capturedAt: at('2026-11-25', 11),
    }),
    // Another patient the same day: not part of this visit.
    makeRecord({ id: 7, patientId: 'Q1', ear: 'left', capturedAt: at('2026-11-25') }),
  ];
}

function setup(language: 'en' | 'ko' = 'en') {
  const api = new FakeApi(records());
  const opened: number[] = [];
  const visits: [string, string][] = [];
  const reports: number[][] = [];
  renderWithI18n(
    <VisitView
      api={api}
      patientId="P7"
      day="2026-11-25"
      card={LABELS}
      onOpen={(id) => opened.push(id)}
      onVisit={(p, d) => visits.push([p, d])}
      onReport={(ids) => reports.push(ids)}
      onBack={() => undefined}
    />,
    language,
  );
  return { api, opened, visits, reports };
}

describe('Visit view', () => {
  it('puts the right and left ear of one visit side by side, each with its latest photo', async () => {
    const { opened } = setup();
    const view = await screen.findByTestId('visit-view');
    expect(within(view).getByRole('heading', { level: 2 })).toHaveTextContent('Visit of patient P7');
    expect(view).toHaveTextContent('4 photos on this day');
    const right = screen.getByTestId('visit-right');
    const left = screen.getByTestId('visit-left');
    // Right ear first, as otoscopy charts put it.
    expect(right.compareDocumentPosition(left) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    expect(within(right).getByRole('heading', { name: 'Right ear' })).toBeInTheDocument();
    expect(within(right).getByTestId('photo')).toHaveAttribute('src', 'http://fake/files/original/5');
    expect(within(right).getByTestId('gate-outcome')).toHaveTextContent('Acute otitis media');
    expect(within(left).getByTestId('photo')).toHaveAttribute('src', 'http://fake/files/original/4');
    expect(left).toHaveTextContent('✓ Reviewed');
    // The earlier photo of the left ear that day is one click away.
    const others = within(left).getByRole('list', { name: 'Other photos of this ear on this day' });
    await userEvent.click(within(others).getByRole('button', { name: /Middle-ear effusion/ }));
    expect(opened).toEqual([3]);
    expect(screen.getByText('1 photo with no ear set')).toBeInTheDocument();
  });

  it('shows each ear over time, today marked, earlier visits one click away', async () => {
    const { visits } = setup();
    await screen.findByTestId('visit-view');
    const timeline = await screen.findByTestId('timeline-left');
    await waitFor(() => expect(within(timeline).getAllByRole('listitem')).toHaveLength(2));
    const [earlier, today] = within(timeline).getAllByRole('listitem');
    expect(earlier).toHaveTextContent('Middle-ear effusion');
    expect(today).toHaveAttribute('aria-current', 'date');
    expect(today).toHaveTextContent('Normal');
    await userEvent.click(within(earlier!).getByRole('button'));
    expect(visits).toEqual([['P7', '2026-11-04']]);
  });

  it('prints a report of both ears', async () => {
    const { reports } = setup();
    await userEvent.click(await screen.findByRole('button', { name: 'Report of this visit…' }));
    expect(reports).toEqual([[5, 4]]);
  });

  it('says when an ear has no photo, in Korean', async () => {
    const api = new FakeApi([
      makeRecord({ id: 9, patientId: 'K1', ear: 'left', capturedAt: at('2026-11-25') }),
    ]);
    renderWithI18n(
      <VisitView
        api={api}
        patientId="K1"
        day="2026-11-25"
        card={LABELS}
        onOpen={() => undefined}
        onVisit={() => undefined}
        onReport={() => undefined}
        onBack={() => undefined}
      />,
      'ko',
    );
    const right = await screen.findByTestId('visit-right');
    expect(right).toHaveTextContent('우측 귀');
    expect(right).toHaveTextContent('이날 우측 귀 영상이 없습니다.');
    expect(screen.getByTestId('visit-left')).toHaveTextContent('좌측 귀');
  });
});
