import { useCallback, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { EngineStatus, LabelInfo, RecordDetail, RecordSummary } from '../../common/contract.ts';
import { isSavedLocally } from '../../common/contract.ts';
import type { ApiClient } from '../api/client.ts';
import { DropZone } from '../components/DropZone.tsx';
import { GateOutcome } from '../components/GateOutcome.tsx';
import { HeatmapControls, HeatmapImage } from '../components/HeatmapImage.tsx';
import { ProbabilityBars } from '../components/ProbabilityBars.tsx';
import { QueueProgress, burstFrom, type Burst } from '../components/QueueProgress.tsx';
import { RecordFacts } from '../components/RecordFacts.tsx';
import { Thumbnail } from '../components/Thumbnail.tsx';
import { errorText } from '../errors.ts';
import { useHeatmapPreference } from '../hooks/useHeatmapPreference.ts';
import { formatDateTime, formatPercent } from '../format.ts';
import { labelName, recordLabelName } from '../labels.ts';
import { uploadSavedLocallyText } from '../saved-locally.ts';

const RECENT = 8;

interface Props {
  api: ApiClient;
  card?: readonly LabelInfo[];
  onOpen(id: number): void;
  /** Quiet time after which the queue status is fetched again (see the event subscription). */
  settleMs?: number;
}

function readAsBase64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => {
      const url = String(reader.result);
      resolve(url.slice(url.indexOf(',') + 1));
    };
    reader.onerror = () => reject(reader.error ?? new Error('read failed'));
    reader.readAsDataURL(file);
  });
}

export function LiveView({ api, card, onOpen, settleMs = 1500 }: Props) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [latest, setLatest] = useState<RecordDetail | null>(null);
  const [recent, setRecent] = useState<RecordSummary[]>([]);
  const [status, setStatus] = useState<EngineStatus | null>(null);
  const [watchDir, setWatchDir] = useState<string | null>(null);
  const [burst, setBurst] = useState<Burst | null>(null);
  const [heatmap, setHeatmap] = useHeatmapPreference();
  const [notice, setNotice] = useState<{ tone: 'info' | 'error'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const requestSeq = useRef(0);
  const lastStatus = useRef<EngineStatus | null>(null);

  const show = useCallback(
    async (id: number) => {
      const seq = ++requestSeq.current;
      const result = await api.call('records.get', { id });
      if (seq !== requestSeq.current) return; // a newer result arrived meanwhile
      if (result.ok) setLatest(result.value);
    },
    [api],
  );

  const applyStatus = useCallback((next: EngineStatus) => {
    const prev = lastStatus.current;
    const outstanding = next.queued + next.processing;
    const wasIdle = !prev || prev.queued + prev.processing === 0;
    if (outstanding > 0 && wasIdle) {
      // The burst began after the last idle status: what was finished then is not part of it.
      setBurst(burstFrom(prev ?? next));
    } else if (outstanding === 0) {
      setBurst(null);
    }
    lastStatus.current = next;
    setStatus(next);
  }, []);

  useEffect(() => {
    let cancelled = false;
    void (async () => {
      const [info, page] = await Promise.all([
        api.call('app.info', {}),
        api.call('records.list', { sort: { field: 'ingestedAt', direction: 'desc' }, limit: RECENT }),
      ]);
      if (cancelled) return;
      if (info.ok) {
        setWatchDir(info.value.watchDir);
        applyStatus(info.value.engine);
      }
      if (page.ok) {
        setRecent(page.value.items);
        const first = page.value.items[0];
        if (first) void show(first.id);
      }
    })();
    // Events carry the status as it was when they were sent; the last one of a burst can still
    // count itself as processing. When events pause while work looks outstanding, ask once more.
    let settle: ReturnType<typeof setTimeout> | null = null;
    const unsubscribe = api.onEvent((event) => {
      if ('status' in event) {
        applyStatus(event.status);
        if (settle) clearTimeout(settle);
        settle =
          event.status.queued + event.status.processing > 0
            ? setTimeout(() => {
                void api.call('app.info', {}).then((r) => {
                  if (!cancelled && r.ok) applyStatus(r.value.engine);
                });
              }, settleMs)
            : null;
      }
      if (event.type === 'done') {
        setRecent((list) => [event.record, ...list.filter((r) => r.id !== event.record.id)].slice(0, RECENT));
        void show(event.record.id);
      } else if (event.type === 'failed' && event.record) {
        const record = event.record;
        setRecent((list) => [record, ...list.filter((r) => r.id !== record.id)].slice(0, RECENT));
        void show(record.id);
      } else if (event.type === 'record.updated') {
        setRecent((list) => list.map((r) => (r.id === event.record.id ? event.record : r)));
        setLatest((current) =>
          current && current.record.id === event.record.id ? { ...current, record: event.record } : current,
        );
      }
    });
    return () => {
      cancelled = true;
      if (settle) clearTimeout(settle);
      unsubscribe();
    };
  }, [api, show, applyStatus, settleMs]);

  async function upload(file: File) {
    setBusy(true);
    setNotice({ tone: 'info', text: t('live.uploading', { name: file.name }) });
    try {
      const dataBase64 = await readAsBase64(file);
      const result = await api.call('diagnose.upload', { fileName: file.name, dataBase64 });
      if (!result.ok) {
        setNotice({
          tone: 'error',
          text: t('live.uploadFailed', { name: file.name, message: errorText(t, result.error) }),
        });
        return;
      }
      const value = result.value;
      if (isSavedLocally(value)) {
        setNotice({ tone: 'info', text: uploadSavedLocallyText(t, lang, value, card) });
        return;
      }
      requestSeq.current++;
      setLatest(value.record);
      setRecent((list) =>
        [value.record.record, ...list.filter((r) => r.id !== value.record.record.id)].slice(0, RECENT),
      );
      setNotice(value.duplicate ? { tone: 'info', text: t('live.duplicate') } : null);
    } catch (error) {
      setNotice({
        tone: 'error',
        text: t('live.uploadFailed', { name: file.name, message: (error as Error).message }),
      });
    } finally {
      setBusy(false);
    }
  }

  const record = latest?.record;
  const diagnosis = latest?.diagnosis ?? null;
  return (
    <div className="live-view">
      <div className="live-status">
        {watchDir && status?.error?.code === 'watch_dir_missing' ? (
          // An unmounted share or a typo must not read "Watching": nothing arrives until the folder is there.
          <p className="watch-line notice notice-error" role="alert">
            {t('live.watchMissing', { folder: watchDir })}
          </p>
        ) : (
          <p className="watch-line">
            {watchDir ? t('live.watching', { folder: watchDir }) : t('live.notWatching')}
          </p>
        )}
        {status && <QueueProgress status={status} burst={burst} />}
      </div>
      {notice && (
        <p className={`notice notice-${notice.tone}`} role={notice.tone === 'error' ? 'alert' : 'status'}>
          {notice.text}
        </p>
      )}
      {!record ? (
        <p className="empty-state">{t('live.waiting')}</p>
      ) : (
        <article
          className="result-card"
          aria-labelledby="live-result"
          data-testid="live-result"
          data-record-id={record.id}
        >
          <div className="result-image">
            <HeatmapImage
              src={record.hasOriginal ? api.fileUrl('original', record.id) : null}
              overlaySrc={record.hasOverlay ? api.fileUrl('overlay', record.id) : null}
              alt={t('detail.imageAlt', { name: record.fileName })}
              width={record.width}
              height={record.height}
              showHeatmap={heatmap.show}
              opacity={heatmap.opacity}
            />
            <HeatmapControls
              available={record.hasOverlay}
              show={heatmap.show}
              opacity={heatmap.opacity}
              onShow={(show) => setHeatmap({ show })}
              onOpacity={(opacity) => setHeatmap({ opacity })}
            />
          </div>
          <div className="result-info" id="live-result">
            <GateOutcome
              record={record}
              eardrumProbability={diagnosis?.eardrumProbability}
              notSureReasons={diagnosis?.notSureReasons}
              card={card}
              size="large"
            />
            {/* Not sure: no "most likely" line that reads like an answer; the probabilities follow. */}
            {record.gate === 'eardrum' && record.modelLabel && record.decision !== 'not_sure' && (
              <p className="top-label">
                {t('live.topLabel')}: <strong>{labelName(t, lang, record.modelLabel, card)}</strong>{' '}
                <span className="confidence">{formatPercent(record.confidence, lang)}</span>
              </p>
            )}
            {diagnosis && Object.keys(diagnosis.probabilities).length > 0 && (
              <>
                <h3 className="section-title">{t('live.probabilities')}</h3>
                <ProbabilityBars probabilities={diagnosis.probabilities} top={diagnosis.label} card={card} />
              </>
            )}
            <RecordFacts record={record} diagnosis={diagnosis} />
            {diagnosis && (
              <p className="muted">{t('live.timing', { ms: Math.round(diagnosis.timings.totalMs) })}</p>
            )}
            <button type="button" className="primary" onClick={() => onOpen(record.id)}>
              {t('live.openDetail')}
            </button>
          </div>
        </article>
      )}
      <div className="live-lower">
        <DropZone onFile={(f) => void upload(f)} busy={busy} />
        {recent.length > 0 && (
          <section className="recent" aria-labelledby="recent-title">
            <h3 id="recent-title">{t('live.recent')}</h3>
            <ul>
              {recent.map((r) => (
                <li key={r.id}>
                  <button type="button" className="recent-item" onClick={() => void show(r.id)}>
                    <Thumbnail src={r.hasThumbnail ? api.fileUrl('thumbnail', r.id) : null} size={40} />
                    <span className="recent-label">
                      {r.status === 'failed'
                        ? t('gate.failed')
                        : r.gate === 'eardrum'
                          ? recordLabelName(t, lang, r, card)
                          : r.gate
                            ? t(`gate.${r.gate}`)
                            : t('gate.pending')}
                    </span>
                    <time dateTime={r.ingestedAt}>{formatDateTime(r.ingestedAt, lang)}</time>
                  </button>
                </li>
              ))}
            </ul>
          </section>
        )}
      </div>
    </div>
  );
}
