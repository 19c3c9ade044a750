import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { LabelInfo, RecordDetail } from '../../common/contract.ts';
import type { ApiClient } from '../api/client.ts';
import { HeatmapImage } from '../components/HeatmapImage.tsx';
import { errorText } from '../errors.ts';
import { formatDateTime, formatPercent } from '../format.ts';
import { useHeatmapPreference } from '../hooks/useHeatmapPreference.ts';
import { labelName, notSureWhy } from '../labels.ts';
import { answerHeadline } from '../answer.ts';

interface Props {
  api: ApiClient;
  ids: number[];
  card?: readonly LabelInfo[];
  clinicName: string;
  appVersion?: string;
  onBack(): void;
  /** Browser printing (window.print); injectable for tests. */
  print?: () => void;
}

/**
 * The printable report of one exam (or of a visit's two ears, one page each): what goes into the
 * patient's file. The screen shows it as printed, with a toolbar that is not printed.
 */
export function ReportView({
  api,
  ids,
  card,
  clinicName,
  appVersion,
  onBack,
  print = () => window.print(),
}: Props) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [details, setDetails] = useState<RecordDetail[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [withHeatmap, setWithHeatmap] = useState(false);
  const [heatmap] = useHeatmapPreference();
  const [message, setMessage] = useState<{ tone: 'info' | 'error'; text: string } | null>(null);
  const [printedAt] = useState(() => new Date().toISOString());

  useEffect(() => {
    let cancelled = false;
    void Promise.all(ids.map((id) => api.call('records.get', { id }))).then((results) => {
      if (cancelled) return;
      const failed = results.find((r) => !r.ok);
      if (failed && !failed.ok) setError(errorText(t, failed.error));
      else setDetails(results.map((r) => (r as { ok: true; value: RecordDetail }).value));
    });
    return () => {
      cancelled = true;
    };
  }, [api, ids, t]);

  async function printOrSave() {
    setMessage(null);
    if (api.transport !== 'electron') {
      print();
      return;
    }
    const first = details?.[0]?.record;
    const name = `eardrum-report-${first?.patientId ?? 'unknown'}-${(first?.capturedAt ?? printedAt).slice(0, 10)}.pdf`;
    const r = await api.call('report.savePdf', { suggestedName: name.replace(/[^\w.-]+/g, '_') });
    if (!r.ok) setMessage({ tone: 'error', text: errorText(t, r.error) });
    else if (r.value.path) setMessage({ tone: 'info', text: t('report.saved', { path: r.value.path }) });
  }

  const toolbar = (
    <div className="report-toolbar no-print" role="toolbar" aria-label={t('report.toolbar')}>
      <button type="button" className="link-button" onClick={onBack}>
        ← {t('report.back')}
      </button>
      <label className="check">
        <input type="checkbox" checked={withHeatmap} onChange={(e) => setWithHeatmap(e.target.checked)} />
        {t('report.includeHeatmap')}
      </label>
      <button type="button" className="primary" onClick={() => void printOrSave()} disabled={!details}>
        {api.transport === 'electron' ? t('report.savePdf') : t('report.print')}
      </button>
      {api.transport !== 'electron' && <span className="muted">{t('report.printHint')}</span>}
      {!clinicName && <span className="muted">{t('report.noClinicName')}</span>}
    </div>
  );
  if (error) {
    return (
      <div className="report-view">
        {toolbar}
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      </div>
    );
  }
  if (!details) return <p className="muted">{t('common.loading')}</p>;

  return (
    <div className="report-view" data-testid="report-view">
      {toolbar}
      {message && (
        <p
          className={`notice notice-${message.tone} no-print`}
          role={message.tone === 'error' ? 'alert' : 'status'}
        >
          {message.text}
        </p>
      )}
      {details.map(({ record, diagnosis, reviews }) => {
        const review = reviews.at(-1) ?? null;
        const probabilities = diagnosis
          ? Object.entries(diagnosis.probabilities).sort((a, b) => b[1] - a[1])
          : [];
        return (
          <article key={record.id} className="report-page" data-testid="report-page" lang={lang}>
            <header className="report-header">
              {clinicName && <p className="report-clinic">{clinicName}</p>}
              <h2>{t('report.title')}</h2>
              <p className="report-printed">
                {t('report.printedAt', { time: formatDateTime(printedAt, lang) })}
              </p>
            </header>
            <dl className="report-facts">
              <dt>{t('common.patient')}</dt>
              <dd>{record.patientId ?? t('common.noPatient')}</dd>
              <dt>{t('ear.label')}</dt>
              <dd>{t(`ear.${record.ear}`)}</dd>
              <dt>{t('common.captured')}</dt>
              <dd>{formatDateTime(record.capturedAt, lang)}</dd>
              <dt>{t('common.file')}</dt>
              <dd className="file-name">{record.fileName}</dd>
            </dl>
            <div className="report-body">
              <figure className="report-photo">
                <HeatmapImage
                  src={record.hasOriginal ? api.fileUrl('original', record.id) : null}
                  overlaySrc={record.hasOverlay ? api.fileUrl('overlay', record.id) : null}
                  alt={t('detail.imageAlt', { name: record.fileName })}
                  width={record.width}
                  height={record.height}
                  showHeatmap={withHeatmap}
                  opacity={heatmap.opacity}
                />
                {withHeatmap && record.hasOverlay && <figcaption>{t('report.heatmapCaption')}</figcaption>}
              </figure>
              <section className="report-answer" aria-label={t('report.modelAnswer')}>
                <h3>{t('report.modelAnswer')}</h3>
                <p className="report-headline">{answerHeadline(t, lang, record, diagnosis, card)}</p>
                {diagnosis?.decision === 'not_sure' && (
                  <p className="report-not-sure">
                    {t('decision.hint')} {notSureWhy(t, diagnosis.notSureReasons)}
                  </p>
                )}
                {probabilities.length > 0 && (
                  <table className="report-probabilities">
                    <thead>
                      <tr>
                        <th scope="col">{t('report.condition')}</th>
                        <th scope="col">{t('report.probability')}</th>
                      </tr>
                    </thead>
                    <tbody>
                      {probabilities.map(([id, p]) => (
                        <tr key={id} className={id === diagnosis?.label ? 'report-top' : undefined}>
                          <td>{labelName(t, lang, id, card)}</td>
                          <td>{formatPercent(p, lang)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )}
                {diagnosis && (
                  <p className="report-model">
                    {t('report.model', { id: diagnosis.modelId, version: diagnosis.modelVersion })}
                    {' · '}
                    {t('report.analysedAt', { time: formatDateTime(diagnosis.createdAt, lang) })}
                  </p>
                )}
              </section>
            </div>
            <section className="report-review" aria-label={t('report.review')}>
              <h3>{t('report.review')}</h3>
              {review ? (
                <>
                  <p>
                    {t(review.action === 'confirm' ? 'report.reviewConfirmed' : 'report.reviewChanged', {
                      label: labelName(t, lang, review.label, card),
                    })}
                  </p>
                  <p>
                    {t('report.reviewBy', {
                      reviewer: review.reviewer,
                      time: formatDateTime(review.createdAt, lang),
                    })}
                  </p>
                  {review.note && <q className="report-note">{review.note}</q>}
                  {reviews.length > 1 && (
                    <p className="muted">{t('report.earlierReviews', { count: reviews.length - 1 })}</p>
                  )}
                </>
              ) : (
                <p className="report-unreviewed">{t('report.notReviewed')}</p>
              )}
              <p className="report-signature">{t('report.signature')}</p>
            </section>
            <footer className="report-footer">
              <p className="report-disclaimer">{t('report.disclaimer')}</p>
              <p className="muted">{t('report.generatedBy', { version: appVersion ?? '' })}</p>
            </footer>
          </article>
        );
      })}
    </div>
  );
}
