import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type {
  AdaptComparison,
  AdaptTally,
  LabelInfo,
  LearningSummary,
  ModelEntry,
} from '../../common/contract.ts';
import type { ApiClient } from '../api/client.ts';
import { errorText } from '../errors.ts';
import { formatDateTime } from '../format.ts';
import { labelName } from '../labels.ts';

interface Props {
  api: ApiClient;
  labels?: readonly LabelInfo[];
}

function Comparison({ c, labels }: { c: AdaptComparison; labels?: readonly LabelInfo[] }) {
  const { t, i18n } = useTranslation();
  const cell = (x: AdaptTally, photos: number) => (
    <>
      <td>
        {x.right} / {photos} {t('learn.right')}
      </td>
      <td>{x.rejected}</td>
    </>
  );
  return (
    <table className="label-table learn-comparison" data-testid="learn-comparison">
      <caption>
        {t('learn.comparisonTitle')}
        <br />
        <span className="muted">{t('learn.comparisonHelp', { folds: c.folds })}</span>
      </caption>
      <thead>
        <tr>
          <th scope="col">{t('learn.label')}</th>
          <th scope="col">{t('learn.before')}</th>
          <th scope="col">{t('learn.rejected')}</th>
          <th scope="col">{t('learn.after')}</th>
          <th scope="col">{t('learn.rejected')}</th>
        </tr>
      </thead>
      <tbody>
        {c.perLabel.map((l) => (
          <tr key={l.label}>
            <th scope="row">{labelName(t, i18n.language, l.label, labels)}</th>
            {cell(l.before, l.photos)}
            {cell(l.after, l.photos)}
          </tr>
        ))}
        <tr className="learn-total">
          <th scope="row">{t('learn.all')}</th>
          {cell(c.before, c.photos)}
          {cell(c.after, c.photos)}
        </tr>
      </tbody>
    </table>
  );
}

/**
 * Settings → "Learn from reviewed photos": reviewed photos per label, a button that adapts the shipped model
 * in the engine's model worker (progress arrives as events; results keep coming meanwhile), the
 * cross-validated before/after comparison with "Use this model" / "Keep the current one", and the models to
 * switch between (the shipped one always among them).
 */
export function LearnFromReviews({ api, labels }: Props) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [summary, setSummary] = useState<LearningSummary | null>(null);
  const [message, setMessage] = useState<{ tone: 'info' | 'error'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    const r = await api.call('learn.summary', {});
    if (r.ok) setSummary(r.value);
    else setMessage({ tone: 'error', text: errorText(t, r.error) });
  }, [api, t]);

  useEffect(() => {
    void load();
    let timer: ReturnType<typeof setTimeout> | null = null;
    const off = api.onEvent((e) => {
      if (e.type === 'learn.progress') {
        setSummary((s) => (s ? { ...s, job: e.job } : s));
        if (e.job.state !== 'running') void load();
      } else if (e.type === 'record.updated' || e.type === 'model.changed') {
        // Reviews change the counts; coalesce a burst of them into one request.
        if (!timer) timer = setTimeout(() => ((timer = null), void load()), 300);
      }
    });
    return () => {
      off();
      if (timer) clearTimeout(timer);
    };
  }, [api, load]);

  async function act<T>(
    run: () => Promise<{ ok: true; value: T } | { ok: false; error: { code: string; message: string } }>,
    after?: (v: T) => void,
  ) {
    setBusy(true);
    setMessage(null);
    try {
      const r = await run();
      if (!r.ok) {
        setMessage({
          tone: 'error',
          text:
            r.error.code === 'invalid_args' || r.error.code === 'busy'
              ? r.error.message
              : errorText(t, r.error),
        });
        return;
      }
      after?.(r.value);
      await load();
    } finally {
      setBusy(false);
    }
  }

  if (!summary) return <p className="muted">{t('common.loading')}</p>;
  const { job } = summary;
  const modelName = (m: ModelEntry) =>
    m.kind === 'shipped'
      ? t('learn.shipped')
      : t('learn.adaptedOn', {
          date: formatDateTime(m.createdAt, lang),
          count: Object.values(m.photosPerLabel).reduce((a, b) => a + b, 0),
        });

  return (
    <div className="learn" data-testid="learn">
      <p className="muted">{t('learn.intro', { min: summary.minPerLabel, total: summary.minTotal })}</p>
      <table className="label-table" data-testid="learn-counts">
        <thead>
          <tr>
            <th scope="col">{t('learn.label')}</th>
            <th scope="col">{t('learn.reviewed')}</th>
          </tr>
        </thead>
        <tbody>
          {summary.reviewed.map((r) => (
            <tr key={r.label}>
              <th scope="row">{labelName(t, lang, r.label, labels)}</th>
              <td>
                {r.photos}
                {r.photos > 0 && r.photos < summary.minPerLabel && (
                  <span className="muted"> ({t('learn.notEnough')})</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p>{t('learn.usable', { count: summary.usable })}</p>

      {job.state === 'running' ? (
        <div className="learn-progress" role="status" aria-live="polite">
          <progress max={job.total || 1} value={job.done} aria-label={t('learn.progress')} />
          <span>
            {t('learn.running', { phase: job.phase ? t(`learn.phases.${job.phase}`) : '' })}{' '}
            {job.total ? `${Math.floor((100 * job.done) / job.total)}%` : ''}
          </span>
          <p className="muted">{t('learn.keepsWorking')}</p>
          <button type="button" disabled={busy} onClick={() => void act(() => api.call('learn.cancel', {}))}>
            {t('learn.cancel')}
          </button>
        </div>
      ) : job.state === 'ready' && job.candidate?.comparison ? (
        <div className="learn-result">
          <Comparison c={job.candidate.comparison} {...(labels ? { labels } : {})} />
          <div className="inline-fields">
            <button
              type="button"
              className="primary"
              disabled={busy}
              onClick={() =>
                void act(
                  () => api.call('learn.decide', { use: true }),
                  (s) => setMessage({ tone: 'info', text: t('learn.modelChanged', { id: s.activeModelId }) }),
                )
              }
            >
              {t('learn.use')}
            </button>
            <button
              type="button"
              disabled={busy}
              onClick={() => void act(() => api.call('learn.decide', { use: false }))}
            >
              {t('learn.keep')}
            </button>
          </div>
        </div>
      ) : (
        <>
          {job.state === 'failed' && job.error && (
            <div className="notice notice-error" role="alert">
              <p>{t('learn.failed')}</p>
              <pre className="learn-problems">{job.error.message}</pre>
              <button type="button" onClick={() => void act(() => api.call('learn.cancel', {}))}>
                {t('learn.dismiss')}
              </button>
            </div>
          )}
          <button
            type="button"
            className="primary"
            disabled={busy || !summary.canStart}
            onClick={() => void act(() => api.call('learn.start', {}))}
          >
            {t('learn.start', { count: summary.usable })}
          </button>
        </>
      )}

      {message && (
        <p className={`notice notice-${message.tone}`} role={message.tone === 'error' ? 'alert' : 'status'}>
          {message.text}
        </p>
      )}

      <h4>{t('learn.models')}</h4>
      <ul className="learn-models" data-testid="learn-models">
        {summary.models.map((m) => (
          <li key={m.id}>
            <span>
              {modelName(m)} <code>{m.id}</code>
            </span>{' '}
            {m.active ? (
              <strong className="reviewed-badge">{t('learn.active')}</strong>
            ) : (
              <button
                type="button"
                disabled={busy}
                onClick={() =>
                  void act(
                    () => api.call('models.use', { id: m.id }),
                    (s) =>
                      setMessage({ tone: 'info', text: t('learn.modelChanged', { id: s.activeModelId }) }),
                  )
                }
              >
                {m.kind === 'shipped' ? t('learn.backToShipped') : t('learn.useThis')}
              </button>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}
