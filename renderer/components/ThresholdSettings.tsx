import { useEffect, useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { ModelCardView, Settings, SettingsChange } from '../../common/contract.ts';
import { EDITABLE_THRESHOLDS, SETTING_SCOPES } from '../../common/contract.ts';
import type { ApiClient } from '../api/client.ts';
import { errorText } from '../errors.ts';
import { ScopeNote } from './ScopeNote.tsx';
import { formatDateTime, formatNumber, formatPercent } from '../format.ts';

interface Props {
  api: ApiClient;
  card: ModelCardView;
  settings: Settings;
  onChanged(settings: Settings): void;
}

/** How each known threshold reads: a share (shown as a percentage), a pixel count, or a plain score. */
const KINDS: Record<string, 'percent' | 'pixels' | 'score'> = {
  eardrum: 'percent',
  maxClipped: 'percent',
  minBrightP95: 'score',
  minSharpness: 'score',
  minSide: 'pixels',
};

function formatThreshold(name: string, value: number, lang: string): string {
  const kind = KINDS[name] ?? 'score';
  if (kind === 'percent') return formatPercent(value, lang);
  if (kind === 'pixels') return `${formatNumber(Math.round(value), lang)} px`;
  return formatNumber(Math.round(value * 10) / 10, lang);
}

const isEditable = (name: string) => (EDITABLE_THRESHOLDS as readonly string[]).includes(name);

/**
 * The model's thresholds under "Advanced": each with a sentence on what it does, readable values, and,
 * for the ones a clinic may change, a change that must be confirmed with a name and is recorded.
 */
export function ThresholdSettings({ api, card, settings, onChanged }: Props) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const ids = useId();
  const [changes, setChanges] = useState<SettingsChange[]>([]);
  const [drafts, setDrafts] = useState<Record<string, string>>({});
  const [pending, setPending] = useState<{ name: string; value: number | null } | null>(null);
  const [who, setWho] = useState(settings.reviewerName);
  const [message, setMessage] = useState<{ tone: 'info' | 'error'; text: string } | null>(null);
  const confirmRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    let cancelled = false;
    void api.call('settings.changes', {}).then((r) => {
      if (!cancelled && r.ok) setChanges(r.value);
    });
    return () => {
      cancelled = true;
    };
  }, [api, settings.thresholds]);

  useEffect(() => {
    if (pending) confirmRef.current?.querySelector<HTMLElement>('input')?.focus();
  }, [pending]);

  const names = Object.keys(card.thresholds);
  const current = (name: string) => settings.thresholds[name] ?? card.thresholds[name]!;
  const label = (name: string) => t(`settings.thresholdNames.${name}`, { defaultValue: name });

  function ask(name: string) {
    setMessage(null);
    const raw = drafts[name];
    const percent = Number(raw);
    if (raw === undefined || raw.trim() === '' || !(percent >= 0 && percent <= 100)) {
      setMessage({ tone: 'error', text: t('settings.thresholdInvalid') });
      return;
    }
    const value = Math.round(percent * 10) / 1000;
    if (value === current(name)) {
      setMessage({ tone: 'info', text: t('settings.thresholdSame') });
      return;
    }
    setPending({ name, value });
  }

  async function apply() {
    if (!pending) return;
    if (!who.trim()) {
      setMessage({ tone: 'error', text: t('settings.thresholdWhoRequired') });
      return;
    }
    const r = await api.call('settings.changeThreshold', { ...pending, changedBy: who.trim() });
    if (!r.ok) {
      setMessage({ tone: 'error', text: errorText(t, r.error) });
      return;
    }
    setPending(null);
    setDrafts({});
    setMessage({ tone: 'info', text: t('settings.thresholdChanged') });
    onChanged(r.value);
  }

  return (
    <details className="advanced" data-testid="advanced-settings">
      <summary>{t('settings.advanced')}</summary>
      <p className="muted">{t('settings.advancedHelp')}</p>
      <ScopeNote scope={SETTING_SCOPES.thresholds} />
      <ul className="threshold-list">
        {names.map((name) => {
          const overridden = settings.thresholds[name] !== undefined;
          return (
            <li key={name} className="threshold" data-threshold={name}>
              <div className="threshold-head">
                <strong id={`${ids}-${name}`}>{label(name)}</strong>
                <span className="threshold-value" data-testid={`threshold-${name}`}>
                  {formatThreshold(name, current(name), lang)}
                </span>
                {overridden && (
                  <span className="muted">
                    {t('settings.thresholdDefault', {
                      value: formatThreshold(name, card.thresholds[name]!, lang),
                    })}
                  </span>
                )}
              </div>
              <p className="muted threshold-help">
                {t(`settings.thresholdHelp.${name}`, { defaultValue: t('settings.thresholdHelp.other') })}
              </p>
              {isEditable(name) && (
                <div className="inline-fields">
                  <label>
                    {t('settings.thresholdNew', { name: label(name) })}
                    <input
                      type="number"
                      min={0}
                      max={100}
                      step={0.5}
                      value={drafts[name] ?? ''}
                      placeholder={String(Math.round(current(name) * 1000) / 10)}
                      onChange={(e) => setDrafts({ ...drafts, [name]: e.target.value })}
                    />
                  </label>
                  <button type="button" onClick={() => ask(name)}>
                    {t('settings.thresholdChange')}
                  </button>
                  {overridden && (
                    <button type="button" onClick={() => setPending({ name, value: null })}>
                      {t('settings.thresholdReset')}
                    </button>
                  )}
                </div>
              )}
            </li>
          );
        })}
      </ul>
      {pending && (
        <div
          ref={confirmRef}
          className="confirm-panel"
          role="alertdialog"
          aria-labelledby={`${ids}-confirm`}
          onKeyDown={(e) => {
            if (e.key === 'Escape') {
              e.stopPropagation();
              setPending(null);
            }
          }}
        >
          <p id={`${ids}-confirm`}>
            {t('settings.thresholdConfirm', {
              name: label(pending.name),
              from: formatThreshold(pending.name, current(pending.name), lang),
              to: formatThreshold(pending.name, pending.value ?? card.thresholds[pending.name]!, lang),
            })}
          </p>
          <label>
            {t('settings.thresholdWho')}
            <input type="text" value={who} maxLength={100} onChange={(e) => setWho(e.target.value)} />
          </label>
          <div className="inline-fields">
            <button type="button" className="primary" onClick={() => void apply()}>
              {t('settings.thresholdApply')}
            </button>
            <button type="button" onClick={() => setPending(null)}>
              {t('common.cancel')}
            </button>
          </div>
        </div>
      )}
      {message && (
        <p className={`notice notice-${message.tone}`} role={message.tone === 'error' ? 'alert' : 'status'}>
          {message.text}
        </p>
      )}
      <h4>{t('settings.thresholdHistory')}</h4>
      {changes.length === 0 ? (
        <p className="muted">{t('settings.thresholdHistoryEmpty')}</p>
      ) : (
        <ol className="threshold-history" data-testid="threshold-history">
          {changes.map((c) => {
            const name = c.key.replace(/^thresholds\./, '');
            const word = (v: number | null) =>
              v === null ? t('settings.thresholdModelValue') : formatThreshold(name, v, lang);
            return (
              <li key={c.id}>
                <time dateTime={c.changedAt}>{formatDateTime(c.changedAt, lang)}</time>{' '}
                {t('settings.thresholdHistoryEntry', {
                  who: c.changedBy,
                  name: label(name),
                  from: word(c.oldValue),
                  to: word(c.newValue),
                })}
              </li>
            );
          })}
        </ol>
      )}
    </details>
  );
}
