import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { LabelInfo, RecordFilter, RecordSummary, VisitSummary } from '../../common/contract.ts';
import type { ApiClient } from '../api/client.ts';
import { errorText } from '../errors.ts';
import { formatDate, formatNumber } from '../format.ts';
import { recordLabelName } from '../labels.ts';
import { Thumbnail } from './Thumbnail.tsx';

const PAGE = 50;

interface Props {
  api: ApiClient;
  filter: RecordFilter;
  card?: readonly LabelInfo[];
  onVisit(patientId: string, day: string): void;
  /** Bumped by the board when new results arrive. */
  refresh: number;
}

/** The board grouped by visit: one row per patient and day, the right and left ear's latest result side by side. */
export function VisitList({ api, filter, card, onVisit, refresh }: Props) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [items, setItems] = useState<VisitSummary[]>([]);
  const [total, setTotal] = useState<number | null>(null);
  const [withoutPatient, setWithoutPatient] = useState(0);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(
    async (offset: number) => {
      const r = await api.call('records.visits', { filter, offset, limit: PAGE });
      if (!r.ok) {
        setError(errorText(t, r.error));
        return;
      }
      setError(null);
      setItems((list) => (offset === 0 ? r.value.items : [...list, ...r.value.items]));
      setTotal(r.value.total);
      setWithoutPatient(r.value.withoutPatient);
    },
    [api, filter, t],
  );

  useEffect(() => {
    void load(0);
  }, [load, refresh]);

  const ear = (r: RecordSummary | null) =>
    r ? (
      <span className="visit-cell">
        <Thumbnail src={r.hasThumbnail ? api.fileUrl('thumbnail', r.id) : null} size={36} />
        <span>
          {r.status !== 'done'
            ? t(`gate.${r.status}`)
            : r.gate === 'eardrum'
              ? recordLabelName(t, lang, r, card)
              : t(`gate.${r.gate}`)}
          {r.reviewed && <span className="reviewed-badge"> ✓</span>}
        </span>
      </span>
    ) : (
      <span className="muted">—</span>
    );

  return (
    <section className="visit-list" aria-label={t('board.visits')} data-testid="visit-list">
      <p className="board-count" aria-live="polite" data-testid="visit-count">
        {total === null
          ? t('common.loading')
          : t('board.visitCount', { count: total, formatted: formatNumber(total, lang) })}
      </p>
      {error && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}
      {total === 0 ? (
        <p className="empty-state">{t('board.noVisits')}</p>
      ) : (
        <table className="visit-table">
          <thead>
            <tr>
              <th scope="col">{t('visit.day')}</th>
              <th scope="col">{t('common.patient')}</th>
              <th scope="col">{t('visit.ear.right')}</th>
              <th scope="col">{t('visit.ear.left')}</th>
              <th scope="col">{t('visit.photos')}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((v) => (
              <tr key={`${v.patientId}/${v.day}`} data-visit={`${v.patientId}/${v.day}`}>
                <td>
                  <button type="button" className="link-button" onClick={() => onVisit(v.patientId, v.day)}>
                    {formatDate(v.day, lang)}
                  </button>
                </td>
                <td>{v.patientId}</td>
                <td>{ear(v.right)}</td>
                <td>{ear(v.left)}</td>
                <td>
                  {formatNumber(v.count, lang)}
                  {v.unknownEar > 0 && (
                    <span className="muted"> ({t('board.unknownEarCount', { count: v.unknownEar })})</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {total !== null && items.length < total && (
        <button type="button" onClick={() => void load(items.length)}>
          {t('board.moreVisits')}
        </button>
      )}
      {withoutPatient > 0 && <p className="muted">{t('board.withoutPatient', { count: withoutPatient })}</p>}
    </section>
  );
}
