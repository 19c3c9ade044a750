import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { ArgsOf, Ear, LabelInfo, RecordDetail } from '../../common/contract.ts';
import { isSavedLocally } from '../../common/contract.ts';
import type { ApiClient } from '../api/client.ts';
import { AuditTrail } from '../components/AuditTrail.tsx';
import { GateOutcome } from '../components/GateOutcome.tsx';
import { HeatmapControls, HeatmapImage } from '../components/HeatmapImage.tsx';
import { PatientEdits } from '../components/PatientEdits.tsx';
import { PatientForm } from '../components/PatientForm.tsx';
import { ProbabilityBars } from '../components/ProbabilityBars.tsx';
import { RecordFacts } from '../components/RecordFacts.tsx';
import { ReviewForm } from '../components/ReviewForm.tsx';
import { ZoomPan } from '../components/ZoomPan.tsx';
import { errorText } from '../errors.ts';
import { useHeatmapPreference } from '../hooks/useHeatmapPreference.ts';
import { dayOf, formatPercent } from '../format.ts';
import { modelLabelName } from '../labels.ts';

interface Props {
  api: ApiClient;
  id: number;
  card?: readonly LabelInfo[];
  reviewerName: string;
  onBack(): void;
  /** Opens the patient's visit of that day (both ears, and each ear over time). */
  onVisit(patientId: string, day: string): void;
  onReport(ids: number[]): void;
}

export function DetailView({ api, id, card, reviewerName, onBack, onVisit, onReport }: Props) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [detail, setDetail] = useState<RecordDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [heatmap, setHeatmap] = useHeatmapPreference();

  const load = useCallback(async () => {
    const result = await api.call('records.get', { id });
    if (result.ok) {
      setDetail(result.value);
      setError(null);
    } else {
      setError(result.error.code === 'not_found' ? t('detail.notFound') : errorText(t, result.error));
    }
  }, [api, id, t]);

  useEffect(() => {
    setDetail(null);
    void load();
  }, [load]);

  useEffect(() => {
    // Escape goes back to the board. In a text field or list it first only leaves the field, so a
    // half-typed note is not lost to a reflex.
    function onKey(e: KeyboardEvent) {
      if (e.key !== 'Escape' || e.defaultPrevented) return;
      const target = e.target as HTMLElement | null;
      if (target && target.matches('input, textarea, select, [contenteditable="true"]')) {
        target.blur();
        return;
      }
      e.preventDefault();
      onBack();
    }
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [onBack]);

  useEffect(
    () =>
      api.onEvent((event) => {
        if (event.type === 'record.updated' && event.record.id === id) void load();
      }),
    [api, id, load],
  );

  // The clinic database away: the form says it is kept on this workstation; the view keeps what it shows.
  async function review(args: ArgsOf<'reviews.add'>): Promise<string | null | 'saved_locally'> {
    const result = await api.call('reviews.add', args);
    if (!result.ok) return errorText(t, result.error);
    if (isSavedLocally(result.value)) return 'saved_locally';
    setDetail(result.value);
    return null;
  }

  async function savePatient(patientId: string | null, ear: Ear): Promise<string | null | 'saved_locally'> {
    const result = await api.call('records.updatePatient', { id, patientId, ear });
    if (!result.ok) return errorText(t, result.error);
    if (isSavedLocally(result.value)) return 'saved_locally';
    setDetail(result.value);
    return null;
  }

  async function retry() {
    const result = await api.call('records.retry', { id });
    if (!result.ok) setError(errorText(t, result.error));
    else void load();
  }

  const back = (
    <button type="button" className="link-button" onClick={onBack}>
      ← {t('detail.back')} <kbd className="key-hint">Esc</kbd>
    </button>
  );
  if (error) {
    return (
      <div className="detail-view">
        {back}
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      </div>
    );
  }
  if (!detail) return <p className="muted">{t('common.loading')}</p>;
  const { record, diagnosis, reviews } = detail;
  return (
    <div className="detail-view" data-testid="detail-view" data-record-id={record.id}>
      <div className="detail-actions">
        {back}
        <button type="button" onClick={() => onReport([record.id])}>
          {t('detail.report')}
        </button>
        {record.patientId && (
          <button type="button" onClick={() => onVisit(record.patientId!, dayOf(record.capturedAt))}>
            {t('detail.visit')}
          </button>
        )}
      </div>
      <div className="detail-grid">
        <section className="detail-image" aria-label={t('detail.imageAlt', { name: record.fileName })}>
          <ZoomPan label={t('detail.imageAlt', { name: record.fileName })}>
            <HeatmapImage
              src={record.hasOriginal ? api.fileUrl('original', record.id) : null}
              overlaySrc={record.hasOverlay ? api.fileUrl('overlay', record.id) : null}
              alt={t('detail.imageAlt', { name: record.fileName })}
              width={record.width}
              height={record.height}
              showHeatmap={heatmap.show}
              opacity={heatmap.opacity}
            />
          </ZoomPan>
          <HeatmapControls
            available={record.hasOverlay}
            show={heatmap.show}
            opacity={heatmap.opacity}
            onShow={(show) => setHeatmap({ show })}
            onOpacity={(opacity) => setHeatmap({ opacity })}
          />
        </section>
        <section className="detail-info">
          <GateOutcome
            record={record}
            eardrumProbability={diagnosis?.eardrumProbability}
            notSureReasons={diagnosis?.notSureReasons}
            card={card}
            size="large"
          />
          {record.reviewed && (
            <p className="model-answer">
              {t('detail.modelAnswer')}: {modelLabelName(t, lang, record, card)} ·{' '}
              {formatPercent(record.confidence, lang)}
            </p>
          )}
          {diagnosis && Object.keys(diagnosis.probabilities).length > 0 && (
            <>
              <h3 className="section-title">{t('live.probabilities')}</h3>
              <ProbabilityBars probabilities={diagnosis.probabilities} top={diagnosis.label} card={card} />
            </>
          )}
          <RecordFacts record={record} diagnosis={diagnosis} />
          {record.status === 'failed' && (
            <button type="button" onClick={() => void retry()}>
              {t('detail.retry')}
            </button>
          )}
          {record.status === 'done' && (
            <ReviewForm
              key={record.id}
              recordId={record.id}
              confirmLabel={record.reviewedLabel ?? (record.gate === 'eardrum' ? record.modelLabel : null)}
              reviewed={record.reviewed}
              defaultReviewer={reviewerName || (reviews.at(-1)?.reviewer ?? '')}
              card={card}
              onSubmit={review}
            />
          )}
          <AuditTrail reviews={reviews} card={card} />
          <PatientForm
            key={`p${record.id}`}
            patientId={record.patientId}
            ear={record.ear}
            onSave={savePatient}
          />
          <PatientEdits edits={detail.patientEdits ?? []} />
        </section>
      </div>
    </div>
  );
}
