import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Ear, LabelInfo, RecordSummary } from '../../common/contract.ts';
import type { ApiClient } from '../api/client.ts';
import { GateOutcome } from '../components/GateOutcome.tsx';
import { HeatmapImage } from '../components/HeatmapImage.tsx';
import { Thumbnail } from '../components/Thumbnail.tsx';
import { errorText } from '../errors.ts';
import { dayOf, formatDate, formatDateTime, formatPercent, utcOffsetMinutes } from '../format.ts';
import { useHeatmapPreference } from '../hooks/useHeatmapPreference.ts';
import { modelLabelName, recordLabelName } from '../labels.ts';

interface Props {
  api: ApiClient;
  patientId: string;
  /** The visit's calendar day (local time), `YYYY-MM-DD`. */
  day: string;
  card?: readonly LabelInfo[];
  onOpen(id: number): void;
  onVisit(patientId: string, day: string): void;
  onReport(ids: number[]): void;
  onBack(): void;
}

/** Right ear first, as otoscopy and audiogram charts put it. */
const SIDES: Ear[] = ['right', 'left'];
const TIMELINE_LIMIT = 100;

/**
 * One visit: a patient's photos of one day, the right and left ear side by side, and for each ear the
 * same patient's results over time, so a follow-up (an effusion over weeks) reads at a glance.
 */
export function VisitView({ api, patientId, day, card, onOpen, onVisit, onReport, onBack }: Props) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [today, setToday] = useState<RecordSummary[] | null>(null);
  const [history, setHistory] = useState<Partial<Record<Ear, RecordSummary[]>>>({});
  const [error, setError] = useState<string | null>(null);
  const [heatmap] = useHeatmapPreference();

  useEffect(() => {
    let cancelled = false;
    setToday(null);
    void (async () => {
      const offset = utcOffsetMinutes(new Date(`${day}T12:00:00`));
      const [visit, right, left] = await Promise.all([
        api.call('records.list', {
          filter: { patientId, from: day, to: day, utcOffsetMinutes: offset },
          sort: { field: 'capturedAt', direction: 'asc' },
          limit: 200,
        }),
        ...SIDES.map((ear) =>
          api.call('records.list', {
            filter: { patientId, ear },
            sort: { field: 'capturedAt', direction: 'asc' },
            limit: TIMELINE_LIMIT,
          }),
        ),
      ]);
      if (cancelled) return;
      if (!visit!.ok) {
        setError(errorText(t, visit!.error));
        return;
      }
      setToday(visit!.value.items);
      setHistory({
        right: right?.ok ? right.value.items : [],
        left: left?.ok ? left.value.items : [],
      });
    })();
    return () => {
      cancelled = true;
    };
  }, [api, patientId, day, t]);

  const back = (
    <button type="button" className="link-button no-print" onClick={onBack}>
      ← {t('visit.back')}
    </button>
  );
  if (error) {
    return (
      <div className="visit-view">
        {back}
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      </div>
    );
  }
  if (!today) return <p className="muted">{t('common.loading')}</p>;

  const ofEar = (ear: Ear) => today.filter((r) => r.ear === ear);
  const latest = (ear: Ear) => ofEar(ear).at(-1) ?? null;
  const reportIds = SIDES.map(latest)
    .filter((r): r is RecordSummary => r !== null)
    .map((r) => r.id);
  const unknown = ofEar('unknown');

  return (
    <div className="visit-view" data-testid="visit-view">
      {back}
      <header className="visit-head">
        <h2>{t('visit.title', { patient: patientId, date: formatDate(day, lang) })}</h2>
        <p className="muted">{t('visit.count', { count: today.length })}</p>
        {reportIds.length > 0 && (
          <button type="button" className="primary" onClick={() => onReport(reportIds)}>
            {t('visit.printReport')}
          </button>
        )}
      </header>
      <div className="visit-ears">
        {SIDES.map((ear) => {
          const main = latest(ear);
          const others = ofEar(ear).slice(0, -1);
          return (
            <section
              key={ear}
              className="visit-ear"
              aria-labelledby={`visit-${ear}`}
              data-testid={`visit-${ear}`}
            >
              <h3 id={`visit-${ear}`}>{t(`visit.ear.${ear}`)}</h3>
              {main ? (
                <>
                  <HeatmapImage
                    src={main.hasOriginal ? api.fileUrl('original', main.id) : null}
                    overlaySrc={main.hasOverlay ? api.fileUrl('overlay', main.id) : null}
                    alt={t('detail.imageAlt', { name: main.fileName })}
                    width={main.width}
                    height={main.height}
                    showHeatmap={heatmap.show}
                    opacity={heatmap.opacity}
                  />
                  <GateOutcome record={main} card={card} />
                  <p className="visit-meta">
                    <time dateTime={main.capturedAt}>{formatDateTime(main.capturedAt, lang)}</time>
                    {main.gate === 'eardrum' && main.confidence !== null && (
                      <>
                        {' · '}
                        {t('visit.modelSaid', {
                          label: modelLabelName(t, lang, main, card),
                          percent: formatPercent(main.confidence, lang),
                        })}
                      </>
                    )}
                    {' · '}
                    {main.reviewed ? (
                      <span className="reviewed-badge">✓ {t('common.reviewed')}</span>
                    ) : (
                      <span className="muted">{t('common.notReviewed')}</span>
                    )}
                  </p>
                  <button type="button" onClick={() => onOpen(main.id)}>
                    {t('visit.openExam')}
                  </button>
                  {others.length > 0 && (
                    <ul className="visit-others" aria-label={t('visit.otherPhotos')}>
                      {others.map((r) => (
                        <li key={r.id}>
                          <button type="button" className="recent-item" onClick={() => onOpen(r.id)}>
                            <Thumbnail
                              src={r.hasThumbnail ? api.fileUrl('thumbnail', r.id) : null}
                              size={40}
                            />
                            <span>{recordLabelName(t, lang, r, card)}</span>
                            <time dateTime={r.capturedAt}>{formatDateTime(r.capturedAt, lang)}</time>
                          </button>
                        </li>
                      ))}
                    </ul>
                  )}
                </>
              ) : (
                <p className="empty-state">{t('visit.noPhoto', { ear: t(`ear.${ear}`) })}</p>
              )}
              <Timeline
                ear={ear}
                records={history[ear] ?? []}
                day={day}
                card={card}
                thumbnail={(r) => (r.hasThumbnail ? api.fileUrl('thumbnail', r.id) : null)}
                onVisit={(d) => onVisit(patientId, d)}
              />
            </section>
          );
        })}
      </div>
      {unknown.length > 0 && (
        <section className="visit-unknown" aria-labelledby="visit-unknown">
          <h3 id="visit-unknown">{t('visit.unknownEar', { count: unknown.length })}</h3>
          <p className="muted">{t('visit.unknownEarHint')}</p>
          <ul className="visit-others">
            {unknown.map((r) => (
              <li key={r.id}>
                <button type="button" className="recent-item" onClick={() => onOpen(r.id)}>
                  <Thumbnail src={r.hasThumbnail ? api.fileUrl('thumbnail', r.id) : null} size={40} />
                  <span>{recordLabelName(t, lang, r, card)}</span>
                  <time dateTime={r.capturedAt}>{formatDateTime(r.capturedAt, lang)}</time>
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}

interface TimelineProps {
  ear: Ear;
  records: RecordSummary[];
  day: string;
  card?: readonly LabelInfo[];
  thumbnail(record: RecordSummary): string | null;
  onVisit(day: string): void;
}

/** One ear's results, oldest first, one entry per day (the day's latest photo). */
function Timeline({ ear, records, day, card, thumbnail, onVisit }: TimelineProps) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const byDay = new Map<string, RecordSummary>();
  for (const r of records) byDay.set(dayOf(r.capturedAt), r); // ascending: the last one of a day wins
  const entries = [...byDay.entries()];
  return (
    <section className="timeline" aria-labelledby={`timeline-${ear}`} data-testid={`timeline-${ear}`}>
      <h4 id={`timeline-${ear}`}>{t('visit.timeline', { ear: t(`ear.${ear}`) })}</h4>
      {entries.length <= 1 ? (
        <p className="muted">{t('visit.timelineEmpty')}</p>
      ) : (
        <ol className="timeline-list">
          {entries.map(([d, r]) => (
            <li key={d} aria-current={d === day ? 'date' : undefined}>
              <button
                type="button"
                className="timeline-item"
                onClick={() => onVisit(d)}
                disabled={d === day}
                title={t('visit.openVisit', { date: formatDate(d, lang) })}
              >
                <time dateTime={d}>{formatDate(d, lang)}</time>
                <Thumbnail src={thumbnail(r)} size={48} />
                <span className={r.abnormal ? 'timeline-label abnormal' : 'timeline-label'}>
                  {r.status === 'done' && r.gate === 'eardrum'
                    ? recordLabelName(t, lang, r, card)
                    : r.gate
                      ? t(`gate.${r.gate}`)
                      : t(`gate.${r.status}`)}
                </span>
                {r.reviewed && <span className="reviewed-badge">✓</span>}
              </button>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
