import { useTranslation } from 'react-i18next';
import type { EngineStatus } from '../../common/contract.ts';
import { formatDuration } from '../format.ts';

export interface Burst {
  /** done + failed when the current burst began. */
  startFinished: number;
  /** failed when the current burst began: failures from before it are not this burst's. */
  startFailed: number;
}

export function finishedCount(status: EngineStatus): number {
  return status.done + status.failed;
}

/** A burst that starts at `status` (the counts it already holds belong to earlier bursts). */
export function burstFrom(status: EngineStatus): Burst {
  return { startFinished: finishedCount(status), startFailed: status.failed };
}

/** Progress of the current burst: counts and ETA while images are waiting or being processed. */
export function QueueProgress({ status, burst }: { status: EngineStatus; burst: Burst | null }) {
  const { t, i18n } = useTranslation();
  const outstanding = status.queued + status.processing;
  if (outstanding === 0 || !burst) {
    return (
      <p className="queue-idle" data-testid="queue-idle">
        {t('live.queueIdle')}
      </p>
    );
  }
  const done = Math.max(0, finishedCount(status) - burst.startFinished);
  const failed = Math.max(0, status.failed - burst.startFailed);
  const total = done + outstanding;
  return (
    <div className="queue-progress" data-testid="queue-progress">
      <progress max={total} value={done} aria-label={t('live.progress', { done, total })} />
      <span>{t('live.progress', { done, total })}</span>
      {failed > 0 && <span className="queue-failed">{t('live.progressFailed', { count: failed })}</span>}
      {status.etaMs !== null && status.etaMs > 0 && (
        <span className="queue-eta">
          {t('live.eta', { time: formatDuration(status.etaMs, i18n.language) })}
        </span>
      )}
    </div>
  );
}
