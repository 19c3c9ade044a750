import { useTranslation } from 'react-i18next';
import type { EngineStatus } from '../../common/contract.ts';
import { formatDuration } from '../format.ts';

export interface Burst {
  /** done + failed when the current burst began. */
  startFinished: number;
}

export function finishedCount(status: EngineStatus): number {
  return status.done + status.failed;
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
  const total = done + outstanding;
  return (
    <div className="queue-progress" data-testid="queue-progress">
      <progress max={total} value={done} aria-label={t('live.progress', { done, total })} />
      <span>{t('live.progress', { done, total })}</span>
      {status.failed > 0 && (
        <span className="queue-failed">{t('live.progressFailed', { count: status.failed })}</span>
      )}
      {status.etaMs !== null && status.etaMs > 0 && (
        <span className="queue-eta">
          {t('live.eta', { time: formatDuration(status.etaMs, i18n.language) })}
        </span>
      )}
    </div>
  );
}
