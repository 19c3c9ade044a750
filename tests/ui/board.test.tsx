// @vitest-environment jsdom
import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { describe, expect, it } from 'vitest';
import type { RecordSummary } from '../../common/contract.ts';
import { BoardView, INITIAL_BOARD, type BoardState } from '../../renderer/views/BoardView.tsx';
import { FakeApi, LABELS, idleStatus, makeRecord } from './fake-api.ts';
import { fakeLayout, renderWithI18n } from './render.tsx';

fakeLayout();

function Harness({ api, onOpen }: { api: FakeApi; onOpen(id: number): void }) {
  const [state, setState] = useState<BoardState>(INITIAL_BOARD);
  return (
    <BoardView
      api={api}
      card={LABELS}
      state={state}
      onState={setState}
      onOpen={onOpen}
      onVisit={() => undefined}
      debounceMs={0}
    />
  );
}

function setup(records: RecordSummary[], language: 'en' | 'ko' = 'en') {
  const api = new FakeApi(records);
  const opened: number[] = [];
  const view = renderWithI18n(<Harness api={api} onOpen={(id) => opened.push(id)} />, language);
  return { api, opened, ...view };
}

function sample(): RecordSummary[] {
  return [
    makeRecord({ id: 1, modelLabel: 'aom', patientId: 'A1', capturedAt: '2026-11-20T09:00:00.000Z' }),
    makeRecord({
      id: 2,
      modelLabel: 'normal',
      patientId: 'B2',
      ear: 'right',
      capturedAt: '2026-11-21T09:00:00.000Z',
    }),
    makeRecord({
      id: 3,
      gate: 'not_eardrum',
      modelLabel: null,
      patientId: null,
      capturedAt: '2026-11-21T10:00:00.000Z',
    }),
    makeRecord({
      id: 4,
      modelLabel: 'aom',
      patientId: 'C3',
      reviewedLabel: 'effusion',
      capturedAt: '2026-11-22T09:00:00.000Z',
    }),
  ];
}

function bodyRows(): HTMLElement[] {
  return within(screen.getByTestId('table-scroll')).queryAllByRole('row');
}

describe('Board grouped by visit', () => {
  it('shows one row per patient and day with the right and left ear side by side, and opens the visit', async () => {
    const api = new FakeApi([
      makeRecord({
        id: 1,
        patientId: 'V1',
        ear: 'left',
        modelLabel: 'effusion',
        capturedAt: '2026-11-25T09:00:00.000Z',
      }),
      makeRecord({
        id: 2,
        patientId: 'V1',
        ear: 'right',
        modelLabel: 'normal',
        capturedAt: '2026-11-25T09:05:00.000Z',
      }),
      makeRecord({
        id: 3,
        patientId: 'V1',
        ear: 'left',
        modelLabel: 'aom',
        capturedAt: '2026-11-04T09:00:00.000Z',
      }),
      makeRecord({ id: 4, patientId: null, ear: 'unknown', capturedAt: '2026-11-25T10:00:00.000Z' }),
    ]);
    const visits: [string, string][] = [];
    function Grouped() {
      const [state, setState] = useState<BoardState>(INITIAL_BOARD);
      return (
        <BoardView
          api={api}
          card={LABELS}
          state={state}
          onState={setState}
          onOpen={() => undefined}
          onVisit={(p, d) => visits.push([p, d])}
          debounceMs={0}
        />
      );
    }
    renderWithI18n(<Grouped />);
    await screen.findByText('4 results');
    await userEvent.click(screen.getByRole('radio', { name: 'Visits' }));
    expect(await screen.findByTestId('visit-count')).toHaveTextContent('2 visits');
    const table = within(screen.getByTestId('visit-list')).getByRole('table');
    const [head, newest, older] = within(table).getAllByRole('row');
    expect(head).toHaveTextContent('DayPatientRight earLeft earPhotos');
    expect(newest).toHaveTextContent('V1');
    expect(within(newest!).getAllByRole('cell')[2]).toHaveTextContent('Normal');
    expect(within(newest!).getAllByRole('cell')[3]).toHaveTextContent('Middle-ear effusion');
    expect(within(older!).getAllByRole('cell')[2]).toHaveTextContent('—');
    expect(screen.getByText(/1 result has no patient ID and is in no visit/)).toBeInTheDocument();
    await userEvent.click(within(newest!).getByRole('button', { name: '25 Nov 2026' }));
    expect(visits).toEqual([['V1', '2026-11-25']]);
  });
});

describe('Board view', () => {
  it('lists the history newest first with result, review state and thumbnails', async () => {
    setup(sample());
    // The count shows "Loading…" until the first page arrives; the first test of the file runs cold.
    await waitFor(() => expect(screen.getByTestId('board-count')).toHaveTextContent('4 results'));
    await waitFor(() => expect(bodyRows()).toHaveLength(4));
    const [first, second, third, fourth] = bodyRows();
    expect(first).toHaveAttribute('data-record-id', '4');
    expect(first).toHaveTextContent('✓ Middle-ear effusion');
    expect(second).toHaveTextContent('No eardrum found');
    expect(third).toHaveTextContent('Not reviewed');
    expect(fourth).toHaveTextContent('Acute otitis media');
    expect(fourth!.querySelector('img')).toHaveAttribute('src', 'http://fake/files/thumbnail/1');
  });

  it('shows a "no picture" tile for an unreadable file and never asks for its missing thumbnail', async () => {
    setup([
      makeRecord({
        id: 9,
        status: 'failed',
        gate: null,
        modelLabel: null,
        failure: { code: 'image.corrupt', message: 'truncated' },
        hasThumbnail: false,
        hasOverlay: false,
      }),
    ]);
    await waitFor(() => expect(bodyRows()).toHaveLength(1));
    const row = bodyRows()[0]!;
    expect(row.querySelector('img')).toBeNull();
    expect(within(row).getByRole('img', { name: 'No picture: the file could not be read' })).toBeVisible();
  });

  it('names the thumbnail column for screen readers without printing it over the next column', async () => {
    setup(sample());
    const header = await screen.findByRole('columnheader', { name: 'Thumbnail' });
    expect(header.querySelector('.visually-hidden')).toHaveTextContent('Thumbnail');
    // Head and body rows share one grid template, so their columns line up.
    const headRow = screen.getAllByRole('row')[0]!;
    await waitFor(() => expect(bodyRows().length).toBeGreaterThan(0));
    expect(headRow.className).toBe('table-row');
    expect(bodyRows()[0]!.className).toContain('table-row');
    expect([...headRow.children].map((c) => c.className)).toEqual(
      [...bodyRows()[0]!.children].map((c) => c.className.split(' ')[0]),
    );
  });

  it('filters by label (the reviewed label counts) and sends the same filter to the chart', async () => {
    const { api } = setup(sample());
    await screen.findByText('4 results');
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Label' }), 'aom');
    expect(await screen.findByText('1 result')).toBeInTheDocument();
    await waitFor(() => expect(bodyRows()).toHaveLength(1));
    expect(bodyRows()[0]).toHaveAttribute('data-record-id', '1');
    const chartCalls = api.callsTo('records.countsPerDay') as { filter: { labels?: string[] } }[];
    expect(chartCalls.at(-1)?.filter.labels).toEqual(['aom']);
  });

  it('combines result, ear, review and text filters, and clears them', async () => {
    setup(sample());
    await screen.findByText('4 results');
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Result' }), 'not_eardrum');
    expect(await screen.findByText('1 result')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Clear filters' }));
    expect(await screen.findByText('4 results')).toBeInTheDocument();
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Ear' }), 'right');
    expect(await screen.findByText('1 result')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Clear filters' }));
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Review' }), 'yes');
    expect(await screen.findByText('1 result')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Clear filters' }));
    await userEvent.type(screen.getByRole('searchbox', { name: 'Search' }), 'b2');
    await waitFor(() => expect(bodyRows()).toHaveLength(1));
    expect(bodyRows()[0]).toHaveAttribute('data-record-id', '2');
  });

  it('filters on the model’s certainty: all, confident or not sure, and says "Not sure" in the row', async () => {
    const records = [
      ...sample(),
      makeRecord({
        id: 5,
        modelLabel: 'earwax',
        confidence: 0.34,
        decision: 'not_sure',
        patientId: 'D4',
        capturedAt: '2026-11-23T09:00:00.000Z',
      }),
    ];
    const { api } = setup(records);
    await screen.findByText('5 results');
    const certainty = screen.getByRole('combobox', { name: 'Model’s certainty' });
    expect([...(certainty as HTMLSelectElement).options].map((o) => o.text)).toEqual([
      'Any',
      'Confident',
      'Not sure',
    ]);
    await waitFor(() => expect(bodyRows()).toHaveLength(5));
    // Newest first: the not-sure photo leads, its guess only in brackets, in the warning colour.
    const unsureCell = bodyRows()[0]!.querySelector('.col-result')!;
    expect(unsureCell).toHaveTextContent('Not sure (Earwax?)');
    expect(unsureCell).toHaveClass('result-not-sure');

    await userEvent.selectOptions(certainty, 'not_sure');
    expect(await screen.findByText('1 result')).toBeInTheDocument();
    await waitFor(() => expect(bodyRows()).toHaveLength(1));
    expect(bodyRows()[0]).toHaveAttribute('data-record-id', '5');
    const listed = api.callsTo('records.list') as { filter: { decision?: string } }[];
    expect(listed.at(-1)?.filter.decision).toBe('not_sure');
    const chartCalls = api.callsTo('records.countsPerDay') as { filter: { decision?: string } }[];
    expect(chartCalls.at(-1)?.filter.decision).toBe('not_sure');
    // The export takes the same filter.
    await userEvent.click(screen.getByRole('button', { name: 'Export CSV' }));
    await waitFor(() => expect(api.exports.at(-1)?.filter?.decision).toBe('not_sure'));

    await userEvent.selectOptions(certainty, 'confident');
    // The not-eardrum photo has no decision: it is neither.
    expect(await screen.findByText('3 results')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Clear filters' }));
    expect(await screen.findByText('5 results')).toBeInTheDocument();
    expect(certainty).toHaveValue('');
  });

  it('sorts by a column header and flips direction on a second click', async () => {
    const { api } = setup(sample());
    await screen.findByText('4 results');
    await userEvent.click(screen.getByRole('button', { name: /^Patient/ }));
    await waitFor(() => expect(bodyRows()[0]).toHaveAttribute('data-record-id', '3'));
    expect(screen.getByRole('columnheader', { name: /Patient/ })).toHaveAttribute('aria-sort', 'ascending');
    await userEvent.click(screen.getByRole('button', { name: /^Patient/ }));
    await waitFor(() => expect(bodyRows()[0]).toHaveAttribute('data-record-id', '4'));
    const last = api.callsTo('records.list').at(-1) as { sort: unknown };
    expect(last.sort).toEqual({ field: 'patientId', direction: 'desc' });
  });

  it('exports exactly the filtered rows', async () => {
    const { api } = setup(sample());
    await screen.findByText('4 results');
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Label' }), 'aom');
    await screen.findByText('1 result');
    await userEvent.click(screen.getByRole('button', { name: 'Export CSV' }));
    expect(await screen.findByRole('status')).toHaveTextContent('Exported 1 row');
    expect(api.exports).toHaveLength(1);
    expect(api.exports[0]?.filter?.labels).toEqual(['aom']);
    expect(api.exports[0]?.language).toBe('en');
  });

  it('opens an exam with a click or from the keyboard', async () => {
    const { opened } = setup(sample());
    await waitFor(() => expect(bodyRows()).toHaveLength(4));
    await userEvent.click(bodyRows()[1]!);
    bodyRows()[2]!.focus();
    await userEvent.keyboard('{Enter}');
    expect(opened).toEqual([3, 2]);
  });

  it('draws a per-day chart by label', async () => {
    setup(sample());
    const chart = await screen.findByRole('figure');
    expect(within(chart).getByText('Results per day by label')).toBeInTheDocument();
    await waitFor(() => expect(chart.querySelectorAll('g[data-day]')).toHaveLength(3));
    const legend = within(chart)
      .getAllByRole('listitem')
      .map((li) => li.textContent);
    expect(legend).toEqual(
      expect.arrayContaining(['Acute otitis media', 'Normal', 'No eardrum', 'Middle-ear effusion']),
    );
  });

  it('keeps 100,000 rows virtual: a page is fetched and only the visible rows exist', async () => {
    const many = Array.from({ length: 100_000 }, (_, i) =>
      makeRecord({ id: i + 1, capturedAt: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString() }),
    );
    const { api } = setup(many);
    expect(await screen.findByText('100,000 results')).toBeInTheDocument();
    await waitFor(() => expect(bodyRows().length).toBeGreaterThan(5));
    expect(bodyRows().length).toBeLessThan(60);
    expect(screen.getByRole('table')).toHaveAttribute('aria-rowcount', '100001');
    const lists = api.callsTo('records.list') as { limit: number }[];
    expect(Math.max(...lists.map((l) => l.limit))).toBeLessThanOrEqual(100);
    const scroller = screen.getByTestId('table-scroll');
    act(() => {
      scroller.scrollTop = 56 * 50_000;
      scroller.dispatchEvent(new Event('scroll'));
    });
    await waitFor(() =>
      expect(
        bodyRows().some((r) => r.getAttribute('data-index') === '50000' && r.hasAttribute('data-record-id')),
      ).toBe(true),
    );
    const offsets = (api.callsTo('records.list') as { offset: number }[]).map((l) => l.offset);
    expect(offsets).toContain(50_000);
  });

  it('speaks Korean', async () => {
    setup(sample(), 'ko');
    expect(await screen.findByText('4건')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'CSV 내보내기' })).toBeInTheDocument();
    await waitFor(() => expect(bodyRows()).toHaveLength(4));
    expect(bodyRows()[1]).toHaveTextContent('고막이 보이지 않습니다');
    expect(bodyRows()[3]).toHaveTextContent('급성 중이염');
  });
});

describe('Board view during a burst', () => {
  it('adds new results without dropping the rows on screen, refreshing at most once per interval', async () => {
    const api = new FakeApi(sample());
    function Live() {
      const [state, setState] = useState<BoardState>(INITIAL_BOARD);
      return (
        <BoardView
          api={api}
          card={LABELS}
          state={state}
          onState={setState}
          onOpen={() => undefined}
          onVisit={() => undefined}
          debounceMs={0}
          refreshMs={50}
        />
      );
    }
    renderWithI18n(<Live />);
    await screen.findByText('4 results');
    const listsBefore = api.callsTo('records.list').length;
    const fresh = [5, 6, 7].map((id) => makeRecord({ id, capturedAt: `2026-11-23T0${id}:00:00.000Z` }));
    act(() => {
      for (const record of fresh) {
        api.records.push(record);
        api.emit({ type: 'done', record, status: idleStatus({ done: record.id }) });
      }
    });
    // Old rows stay while the refresh is pending.
    expect(bodyRows()).toHaveLength(4);
    expect(await screen.findByText('7 results')).toBeInTheDocument();
    await waitFor(() => expect(bodyRows()).toHaveLength(7));
    expect(bodyRows()[0]).toHaveAttribute('data-record-id', '7');
    expect(api.callsTo('records.list').length - listsBefore).toBe(1);
  });

  it('patches a reviewed row in place', async () => {
    const api = new FakeApi(sample());
    function Live() {
      const [state, setState] = useState<BoardState>(INITIAL_BOARD);
      return (
        <BoardView
          api={api}
          card={LABELS}
          state={state}
          onState={setState}
          onOpen={() => undefined}
          onVisit={() => undefined}
          debounceMs={0}
        />
      );
    }
    renderWithI18n(<Live />);
    await waitFor(() => expect(bodyRows()).toHaveLength(4));
    const listsBefore = api.callsTo('records.list').length;
    const updated = { ...api.records[0]!, reviewed: true, reviewedLabel: 'earwax', effectiveLabel: 'earwax' };
    act(() => api.emit({ type: 'record.updated', record: updated }));
    await waitFor(() => expect(bodyRows()[3]).toHaveTextContent('✓ Earwax'));
    expect(api.callsTo('records.list').length).toBe(listsBefore);
  });
});
