import { useEffect, useId, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { CountsPerDay, LabelInfo, RecordSort } from '../../common/contract.ts';
import type { ApiClient } from '../api/client.ts';
import { EMPTY_FILTER, isEmptyFilter, toRecordFilter, type BoardFilter } from '../board-filter.ts';
import { DayChart } from '../components/DayChart.tsx';
import { FilterBar } from '../components/FilterBar.tsx';
import { RecordTable } from '../components/RecordTable.tsx';
import { VisitList } from '../components/VisitList.tsx';
import { errorText } from '../errors.ts';
import { formatNumber } from '../format.ts';
import { useDebounced } from '../hooks/useDebounced.ts';
import { useRecordPages } from '../hooks/useRecordPages.ts';

export interface BoardState {
  filter: BoardFilter;
  sort: RecordSort;
  /** One row per photo, or one per visit (a patient's photos of one day, both ears side by side). */
  group: 'photos' | 'visits';
}

export const INITIAL_BOARD: BoardState = {
  filter: EMPTY_FILTER,
  sort: { field: 'capturedAt', direction: 'desc' },
  group: 'photos',
};

interface Props {
  api: ApiClient;
  card?: readonly LabelInfo[];
  /** Kept by the app so filters survive opening an exam and coming back. */
  state: BoardState;
  onState(state: BoardState): void;
  onOpen(id: number): void;
  onVisit(patientId: string, day: string): void;
  /** Typing delay before a search runs (0 in tests). */
  debounceMs?: number;
  /** Longest wait before new results show up on the board. */
  refreshMs?: number;
}

export function BoardView({
  api,
  card,
  state,
  onState,
  onOpen,
  onVisit,
  debounceMs = 250,
  refreshMs = 1000,
}: Props) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const debounced = useDebounced(state.filter, debounceMs);
  const filter = useMemo(() => toRecordFilter(debounced), [debounced]);
  const pages = useRecordPages(api, filter, state.sort);
  const [chart, setChart] = useState<CountsPerDay | null>(null);
  const [message, setMessage] = useState<{ tone: 'info' | 'error'; text: string } | null>(null);
  const [exporting, setExporting] = useState(false);
  const [refresh, setRefresh] = useState(0);
  const ids = useId();

  useEffect(() => {
    let cancelled = false;
    void api.call('records.countsPerDay', { filter }).then((r) => {
      if (!cancelled) setChart(r.ok ? r.value : null);
    });
    return () => {
      cancelled = true;
    };
  }, [api, filter]);

  const { patch, reload } = pages;
  useEffect(() => {
    // During a burst results arrive many times a second: refresh at most once a second.
    let timer: ReturnType<typeof setTimeout> | null = null;
    const unsubscribe = api.onEvent((event) => {
      if (event.type === 'record.updated') patch(event.record);
      else if ((event.type === 'done' || (event.type === 'failed' && event.record)) && !timer) {
        timer = setTimeout(() => {
          timer = null;
          reload();
          setRefresh((n) => n + 1);
        }, refreshMs);
      }
    });
    return () => {
      unsubscribe();
      if (timer) clearTimeout(timer);
    };
  }, [api, patch, reload, refreshMs]);

  async function exportCsv() {
    setExporting(true);
    setMessage(null);
    const result = await api.exportCsv({ filter, sort: state.sort, language: lang === 'ko' ? 'ko' : 'en' });
    setExporting(false);
    if (!result.ok) {
      setMessage({ tone: 'error', text: errorText(t, result.error) });
    } else if (!result.value.cancelled) {
      const rows = result.value.rows ?? pages.total ?? 0;
      setMessage({ tone: 'info', text: t('board.exported', { count: rows }) });
    }
  }

  return (
    <div className="board-view">
      <FilterBar filter={state.filter} onChange={(f) => onState({ ...state, filter: f })} card={card} />
      <div className="board-toolbar">
        <fieldset className="segmented">
          <legend className="visually-hidden">{t('board.groupBy')}</legend>
          {(['photos', 'visits'] as const).map((group) => (
            <label key={group} className={state.group === group ? 'segment active' : 'segment'}>
              <input
                type="radio"
                name={`${ids}-group`}
                value={group}
                checked={state.group === group}
                onChange={() => onState({ ...state, group })}
              />
              {t(`board.group.${group}`)}
            </label>
          ))}
        </fieldset>
        <p className="board-count" aria-live="polite" data-testid="board-count">
          {pages.total === null
            ? t('common.loading')
            : t('board.count', { count: pages.total, formatted: formatNumber(pages.total, lang) })}
        </p>
        {!isEmptyFilter(state.filter) && (
          <button type="button" onClick={() => onState({ ...state, filter: EMPTY_FILTER })}>
            {t('board.clear')}
          </button>
        )}
        <button
          type="button"
          className="primary"
          onClick={() => void exportCsv()}
          disabled={exporting || !pages.total}
        >
          {exporting ? t('board.exporting') : t('board.export')}
        </button>
      </div>
      {message && (
        <p className={`notice notice-${message.tone}`} role={message.tone === 'error' ? 'alert' : 'status'}>
          {message.text}
        </p>
      )}
      {pages.error && (
        <p className="notice notice-error" role="alert">
          {errorText(t, pages.error)}
        </p>
      )}
      {state.group === 'visits' ? (
        <VisitList api={api} filter={filter} card={card} onVisit={onVisit} refresh={refresh} />
      ) : pages.total === 0 ? (
        <p className="empty-state">{t('board.empty')}</p>
      ) : (
        <RecordTable
          pages={pages}
          sort={state.sort}
          onSort={(sort) => onState({ ...state, sort })}
          onOpen={onOpen}
          thumbnailUrl={(id) => api.fileUrl('thumbnail', id)}
          card={card}
        />
      )}
      {chart && <DayChart data={chart} card={card} />}
    </div>
  );
}
