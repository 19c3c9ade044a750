import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { ArgsOf, LabelInfo } from '../../common/contract.ts';
import { KNOWN_LABELS, labelName } from '../labels.ts';

interface Props {
  recordId: number;
  modelLabel: string | null;
  defaultReviewer: string;
  card?: readonly LabelInfo[];
  onSubmit(args: ArgsOf<'reviews.add'>): Promise<string | null>;
}

/** Confirm the model's label or choose another, with a note and the reviewer's name. */
export function ReviewForm({ recordId, modelLabel, defaultReviewer, card, onSubmit }: Props) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const labels = card?.map((l) => l.id) ?? [...KNOWN_LABELS];
  const canConfirm = modelLabel !== null;
  const [action, setAction] = useState<'confirm' | 'override'>(canConfirm ? 'confirm' : 'override');
  const [label, setLabel] = useState(labels.find((l) => l !== modelLabel) ?? labels[0] ?? '');
  const [note, setNote] = useState('');
  const [reviewer, setReviewer] = useState(defaultReviewer);
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);

  async function submit() {
    if (!reviewer.trim()) {
      setError(t('detail.reviewerRequired'));
      return;
    }
    setSaving(true);
    setError(null);
    const failure = await onSubmit({
      recordId,
      action,
      ...(action === 'override' ? { label } : {}),
      note,
      reviewer: reviewer.trim(),
    });
    setSaving(false);
    if (failure) {
      setError(failure);
    } else {
      setNote('');
      setSaved(true);
    }
  }

  return (
    <form
      className="review-form"
      aria-labelledby="review-title"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <h3 id="review-title">{t('detail.review')}</h3>
      <fieldset>
        <legend className="visually-hidden">{t('detail.review')}</legend>
        {canConfirm && (
          <label className="check">
            <input
              type="radio"
              name="review-action"
              value="confirm"
              checked={action === 'confirm'}
              onChange={() => setAction('confirm')}
            />
            {t('detail.confirm', { label: labelName(t, lang, modelLabel, card) })}
          </label>
        )}
        <label className="check">
          <input
            type="radio"
            name="review-action"
            value="override"
            checked={action === 'override'}
            onChange={() => setAction('override')}
          />
          {t('detail.override')}
        </label>
        {action === 'override' && (
          <label>
            {t('detail.overrideLabel')}
            <select value={label} onChange={(e) => setLabel(e.target.value)}>
              {labels.map((id) => (
                <option key={id} value={id}>
                  {labelName(t, lang, id, card)}
                </option>
              ))}
            </select>
          </label>
        )}
      </fieldset>
      <label>
        {t('detail.note')}
        <textarea value={note} rows={3} maxLength={2000} onChange={(e) => setNote(e.target.value)} />
      </label>
      <label>
        {t('detail.reviewer')}
        <input
          type="text"
          value={reviewer}
          maxLength={100}
          onChange={(e) => setReviewer(e.target.value)}
          aria-required="true"
        />
      </label>
      {error && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}
      {saved && !error && (
        <p className="notice notice-info" role="status">
          {t('detail.reviewSaved')}
        </p>
      )}
      <button type="submit" className="primary" disabled={saving}>
        {t('detail.submitReview')}
      </button>
    </form>
  );
}
