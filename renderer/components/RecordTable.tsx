import type { TFunction } from 'i18next';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useRef, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { LabelInfo, RecordSort, RecordSummary, SortField } from '../../common/contract.ts';
import { formatDateTime, formatPercent } from '../format.ts';
import type { RecordPages } from '../hooks/useRecordPages.ts';
import { labelName, modelLabelName } from '../labels.ts';
import { Thumbnail } from './Thumbnail.tsx';

export const ROW_HEIGHT = 56;

interface Column {
  id: string;
  title: string;
  sort?: SortField;
  className: string;
  /** Named for screen readers only (the thumbnail column is too narrow for a word). */
  hiddenTitle?: boolean;
}

interface Props {
  pages: RecordPages;
  sort: RecordSort;
  onSort(sort: RecordSort): void;
  onOpen(id: number): void;
  thumbnailUrl(id: number): string;
  card?: readonly LabelInfo[];
}

function resultText(t: TFunction, lang: string, r: RecordSummary, card?: readonly LabelInfo[]): string {
  if (r.status === 'failed') return t('gate.failed');
  if (r.status === 'pending') return t('gate.pending');
  if (r.gate === 'eardrum') return modelLabelName(t, lang, r, card);
  if (r.gate === 'ungradable' && r.gateReason) return t(`gate.reason.${r.gateReason}`);
  return r.gate ? t(`gate.${r.gate}`) : '—';
}

/**
 * The history as a virtualized ARIA table: only the rows in view (plus a few) exist in the DOM, so
 * 100,000 records scroll as smoothly as 100. Rows are focusable; Enter opens one, arrows move.
 */
export function RecordTable({ pages, sort, onSort, onOpen, thumbnailUrl, card }: Props) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const scroller = useRef<HTMLDivElement>(null);
  const count = pages.total ?? 0;
  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 10,
  });
  const items = virtualizer.getVirtualItems();
  const first = items[0]?.index ?? 0;
  const last = items[items.length - 1]?.index ?? 0;
  const { ensure, version } = pages;
  useEffect(() => {
    // Also after a refresh (version) so rows scrolled far down are fetched again.
    if (count > 0) ensure(first, last);
  }, [ensure, first, last, count, version]);

  const columns: Column[] = [
    { id: 'thumb', title: t('board.thumbnail'), className: 'col-thumb', hiddenTitle: true },
    { id: 'captured', title: t('common.captured'), sort: 'capturedAt', className: 'col-time' },
    { id: 'patient', title: t('common.patient'), sort: 'patientId', className: 'col-patient' },
    { id: 'ear', title: t('ear.label'), sort: 'ear', className: 'col-ear' },
    { id: 'result', title: t('board.modelLabel'), sort: 'effectiveLabel', className: 'col-result' },
    { id: 'confidence', title: t('common.confidence'), sort: 'confidence', className: 'col-conf' },
    { id: 'review', title: t('board.reviewLabel'), className: 'col-review' },
    { id: 'file', title: t('common.file'), sort: 'fileName', className: 'col-file' },
  ];

  function toggleSort(field: SortField) {
    onSort(
      sort.field === field
        ? { field, direction: sort.direction === 'asc' ? 'desc' : 'asc' }
        : { field, direction: field === 'capturedAt' || field === 'confidence' ? 'desc' : 'asc' },
    );
  }

  function onRowKey(e: KeyboardEvent<HTMLDivElement>, index: number, id: number | undefined) {
    if ((e.key === 'Enter' || e.key === ' ') && id !== undefined) {
      e.preventDefault();
      onOpen(id);
      return;
    }
    const delta =
      e.key === 'ArrowDown'
        ? 1
        : e.key === 'ArrowUp'
          ? -1
          : e.key === 'PageDown'
            ? 10
            : e.key === 'PageUp'
              ? -10
              : 0;
    if (delta === 0) return;
    e.preventDefault();
    const next = Math.max(0, Math.min(count - 1, index + delta));
    virtualizer.scrollToIndex(next);
    requestAnimationFrame(() => {
      scroller.current?.querySelector<HTMLElement>(`[data-index="${next}"]`)?.focus();
    });
  }

  return (
    <div className="record-table" role="table" aria-label={t('board.table')} aria-rowcount={count + 1}>
      <div role="rowgroup" className="table-head">
        <div role="row" className="table-row" aria-rowindex={1}>
          {columns.map((c) => {
            const active = c.sort && sort.field === c.sort;
            return (
              <div
                key={c.id}
                role="columnheader"
                className={c.className}
                aria-sort={active ? (sort.direction === 'asc' ? 'ascending' : 'descending') : undefined}
              >
                {c.sort ? (
                  <button
                    type="button"
                    className="sort-button"
                    onClick={() => toggleSort(c.sort!)}
                    title={t('board.sortBy', { column: c.title })}
                  >
                    {c.title}
                    <span aria-hidden="true">{active ? (sort.direction === 'asc' ? ' ▲' : ' ▼') : ''}</span>
                  </button>
                ) : c.hiddenTitle ? (
                  <span className="visually-hidden">{c.title}</span>
                ) : (
                  c.title
                )}
              </div>
            );
          })}
        </div>
      </div>
      <div ref={scroller} className="table-scroll" data-testid="table-scroll">
        <div role="rowgroup" style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {items.map((item) => {
            const r = pages.row(item.index);
            return (
              <div
                key={item.key}
                role="row"
                className={r ? 'table-row body-row' : 'table-row body-row loading-row'}
                aria-rowindex={item.index + 2}
                data-index={item.index}
                data-record-id={r?.id}
                tabIndex={0}
                style={{ transform: `translateY(${item.start}px)`, height: ROW_HEIGHT }}
                onClick={() => r && onOpen(r.id)}
                onKeyDown={(e) => onRowKey(e, item.index, r?.id)}
              >
                {r ? (
                  <>
                    <div role="cell" className="col-thumb">
                      <Thumbnail src={r.hasThumbnail ? thumbnailUrl(r.id) : null} size={44} />
                    </div>
                    <div role="cell" className="col-time">
                      <time dateTime={r.capturedAt}>{formatDateTime(r.capturedAt, lang)}</time>
                    </div>
                    <div role="cell" className="col-patient">
                      {r.patientId ?? '—'}
                    </div>
                    <div role="cell" className="col-ear">
                      {t(`ear.${r.ear}`)}
                    </div>
                    <div
                      role="cell"
                      className={`col-result result-${r.status === 'done' ? (r.gate ?? 'none') : r.status}${r.decision === 'not_sure' ? ' result-not-sure' : ''}`}
                      data-decision={r.decision ?? undefined}
                    >
                      {resultText(t, lang, r, card)}
                    </div>
                    <div role="cell" className="col-conf">
                      {r.gate === 'eardrum' ? formatPercent(r.confidence, lang) : '—'}
                    </div>
                    <div role="cell" className="col-review">
                      {r.reviewed ? (
                        <span className="reviewed-badge">✓ {labelName(t, lang, r.reviewedLabel, card)}</span>
                      ) : (
                        <span className="muted">{t('common.notReviewed')}</span>
                      )}
                    </div>
                    <div role="cell" className="col-file" title={r.originalPath}>
                      {r.fileName}
                    </div>
                  </>
                ) : (
                  <div role="cell" className="loading-cell">
                    {t('board.loadingMore')}
                  </div>
                )}
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
