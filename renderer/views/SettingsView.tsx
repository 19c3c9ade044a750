import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { SETTING_SCOPES } from '../../common/contract.ts';
import type { ModelCardView, PatternPreview, Settings } from '../../common/contract.ts';
import type { ApiClient } from '../api/client.ts';
import { ClinicDatabase } from '../components/ClinicDatabase.tsx';
import { LearnFromReviews } from '../components/LearnFromReviews.tsx';
import { ModelCard } from '../components/ModelCard.tsx';
import { ScopeNote } from '../components/ScopeNote.tsx';
import { ThresholdSettings } from '../components/ThresholdSettings.tsx';
import { errorText } from '../errors.ts';
import { formatDateTime } from '../format.ts';
import { useDebounced } from '../hooks/useDebounced.ts';
import { isUiLanguage } from '../i18n/index.ts';

interface Props {
  api: ApiClient;
  card: ModelCardView | null;
  settings: Settings;
  onSaved(settings: Settings): void;
  dataDir?: string;
  debounceMs?: number;
}

const DEFAULT_SAMPLE = 'P12345_L_20260115_093000.jpg';

export function SettingsView({ api, card, settings, onSaved, dataDir, debounceMs = 200 }: Props) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [draft, setDraft] = useState<Settings>(settings);
  const [sample, setSample] = useState(DEFAULT_SAMPLE);
  const [preview, setPreview] = useState<PatternPreview | null>(null);
  const [message, setMessage] = useState<{ tone: 'info' | 'error'; text: string } | null>(null);
  const pattern = useDebounced(draft.fileNamePattern, debounceMs);
  const debouncedSample = useDebounced(sample, debounceMs);

  useEffect(() => setDraft(settings), [settings]);

  useEffect(() => {
    if (!pattern || !debouncedSample) {
      setPreview(null);
      return;
    }
    let cancelled = false;
    void api.call('settings.previewPattern', { pattern, sample: debouncedSample }).then((r) => {
      if (cancelled) return;
      setPreview(
        r.ok
          ? r.value
          : { matched: false, patientId: null, ear: 'unknown', capturedAt: null, error: r.error },
      );
    });
    return () => {
      cancelled = true;
    };
  }, [api, pattern, debouncedSample]);

  const set = <K extends keyof Settings>(key: K, value: Settings[K]) =>
    setDraft((d) => ({ ...d, [key]: value }));

  async function choose() {
    const r = await api.call('dialog.chooseWatchDir', {});
    if (r.ok && r.value.path) set('watchDir', r.value.path);
    else if (!r.ok) setMessage({ tone: 'error', text: errorText(t, r.error) });
  }

  async function save() {
    setMessage(null);
    // Thresholds change only through their own confirmed, recorded change (ThresholdSettings).
    const { thresholds: _thresholds, ...patch } = draft;
    const r = await api.call('settings.update', patch);
    if (!r.ok) {
      setMessage({ tone: 'error', text: errorText(t, r.error) });
      return;
    }
    onSaved(r.value);
    setMessage({ tone: 'info', text: t('settings.saved') });
  }

  return (
    <div className="settings-view">
      <div className="settings-main">
        <form
          className="settings-form"
          onSubmit={(e) => {
            e.preventDefault();
            void save();
          }}
        >
          <fieldset>
            <legend>{t('settings.folder')}</legend>
            <ScopeNote scope={SETTING_SCOPES.watchDir} />
            <div className="inline-fields">
              <label className="grow">
                {t('settings.folderPath')}
                <input type="text" value={draft.watchDir} onChange={(e) => set('watchDir', e.target.value)} />
              </label>
              {api.transport === 'electron' && (
                <button type="button" onClick={() => void choose()}>
                  {t('settings.choose')}
                </button>
              )}
            </div>
            {api.transport !== 'electron' && <p className="muted">{t('settings.notInBrowser')}</p>}
            <label className="check">
              <input
                type="checkbox"
                checked={draft.recursive}
                onChange={(e) => set('recursive', e.target.checked)}
              />
              {t('settings.recursive')}
            </label>
            <label className="check">
              <input
                type="checkbox"
                checked={draft.usePolling}
                onChange={(e) => set('usePolling', e.target.checked)}
              />
              {t('settings.polling')}
            </label>
            {draft.usePolling && (
              <label>
                {t('settings.pollInterval')}
                <input
                  type="number"
                  min={100}
                  max={60000}
                  step={100}
                  value={draft.pollIntervalMs}
                  onChange={(e) => set('pollIntervalMs', Number(e.target.value))}
                />
              </label>
            )}
            {dataDir && (
              <p className="muted">
                {t('settings.dataFolder')}: <code>{dataDir}</code>
              </p>
            )}
          </fieldset>

          <fieldset>
            <legend>{t('settings.pattern')}</legend>
            <ScopeNote scope={SETTING_SCOPES.fileNamePattern} />
            <label>
              {t('settings.pattern')}
              <input
                type="text"
                value={draft.fileNamePattern}
                onChange={(e) => set('fileNamePattern', e.target.value)}
                aria-describedby="pattern-help"
              />
            </label>
            <p id="pattern-help" className="muted">
              {t('settings.patternHelp')}
            </p>
            <label>
              {t('settings.previewFile')}
              <input type="text" value={sample} onChange={(e) => setSample(e.target.value)} />
            </label>
            <output className="pattern-preview" aria-live="polite" data-testid="pattern-preview">
              {preview === null
                ? ''
                : preview.error
                  ? t('settings.patternInvalid', { message: errorText(t, preview.error) })
                  : preview.matched
                    ? `${t('settings.previewResult', {
                        patient: preview.patientId ?? '—',
                        ear: t(`ear.${preview.ear}`),
                      })}${preview.capturedAt ? ` · ${t('settings.previewDate', { date: formatDateTime(preview.capturedAt, lang) })}` : ''}`
                    : t('settings.previewNoMatch')}
            </output>
          </fieldset>

          <fieldset>
            <legend>{t('settings.language')}</legend>
            <ScopeNote scope={SETTING_SCOPES.language} />
            <label>
              {t('settings.language')}
              <select
                value={draft.language ?? ''}
                onChange={(e) => set('language', isUiLanguage(e.target.value) ? e.target.value : null)}
                aria-describedby="language-help"
              >
                <option value="">{t('settings.languageAuto')}</option>
                <option value="ko">{t('languages.ko')}</option>
                <option value="en">{t('languages.en')}</option>
              </select>
            </label>
            <p id="language-help" className="muted">
              {t('settings.languageHelp')}
            </p>
            <label>
              {t('settings.reviewer')}
              <input
                type="text"
                value={draft.reviewerName}
                maxLength={100}
                onChange={(e) => set('reviewerName', e.target.value)}
              />
            </label>
          </fieldset>

          <fieldset>
            <legend>{t('settings.clinic')}</legend>
            <ScopeNote scope={SETTING_SCOPES.clinicName} />
            <label>
              {t('settings.clinicName')}
              <input
                type="text"
                value={draft.clinicName}
                maxLength={200}
                onChange={(e) => set('clinicName', e.target.value)}
              />
            </label>
          </fieldset>

          {message && (
            <p
              className={`notice notice-${message.tone}`}
              role={message.tone === 'error' ? 'alert' : 'status'}
            >
              {message.text}
            </p>
          )}
          <button type="submit" className="primary">
            {t('settings.save')}
          </button>
        </form>
        {card && Object.keys(card.thresholds).length > 0 && (
          <ThresholdSettings api={api} card={card} settings={settings} onChanged={onSaved} />
        )}
      </div>
      <section className="learn-section" aria-labelledby="clinic-db-title">
        <h3 id="clinic-db-title">{t('clinicDb.title')}</h3>
        <ClinicDatabase api={api} />
      </section>
      <section className="learn-section" aria-labelledby="learn-title">
        <h3 id="learn-title">{t('learn.title')}</h3>
        <LearnFromReviews api={api} {...(card ? { labels: card.labels } : {})} />
      </section>
      <section className="model-card-section" aria-labelledby="model-card-title">
        <h3 id="model-card-title">{t('settings.modelCard')}</h3>
        <ModelCard card={card} />
      </section>
    </div>
  );
}
