import { useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { ArgsOf, LabelInfo } from '../../common/contract.ts';
import { KNOWN_LABELS, REVIEW_GATE_LABELS, labelName } from '../labels.ts';

interface Props {
  recordId: number;
  /** The label a "Confirm" records (the latest review's, else the model's); null when there is none. */
  confirmLabel: string | null;
  /** Whether an earlier review set `confirmLabel` (the wording then says "current result"). */
  reviewed: boolean;
  defaultReviewer: string;
  card?: readonly LabelInfo[];
  /** A failure's text, null when written, or `saved_locally` when kept until the clinic database is back. */
  onSubmit(args: ArgsOf<'reviews.add'>): Promise<string | null | 'saved_locally'>;
}

type Action = 'confirm' | 'override' | null;

/**
 * Confirm the model's label or choose another, with a note and the reviewer's name. Nothing is chosen
 * for the clinician: Save stays disabled until they pick "Confirm" or a label, so a review can never
 * record a label nobody chose.
 */
export function ReviewForm({ recordId, confirmLabel, reviewed, defaultReviewer, card, onSubmit }: Props) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const ids = useId();
  const labels = [...(card?.map((l) => l.id) ?? KNOWN_LABELS), ...REVIEW_GATE_LABELS];
  const canConfirm = confirmLabel !== null;
  const [action, setAction] = useState<Action>(null);
  const [label, setLabel] = useState('');
  const [note, setNote] = useState('');
  const [reviewer, setReviewer] = useState(defaultReviewer);
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState<false | 'written' | 'saved_locally'>(false);
  const chosen = action === 'confirm' || (action === 'override' && label !== '');

  async function submit() {
    if (!chosen || saving) return;
    if (!reviewer.trim()) {
      setError(t('detail.reviewerRequired'));
      return;
    }
    setSaving(true);
    setError(null);
    const failure = await onSubmit({
      recordId,
      action: action!,
      ...(action === 'override' ? { label } : {}),
      note,
      reviewer: reviewer.trim(),
    });
    setSaving(false);
    if (failure === null || failure === 'saved_locally') {
      // The next review starts from nothing chosen again.
      setAction(null);
      setLabel('');
      setNote('');
      setSaved(failure ?? 'written');
    } else {
      setError(failure);
    }
  }

  function chooseLabel(value: string) {
    setLabel(value);
    setSaved(false);
    // Picking a label is choosing to override; clearing it leaves nothing chosen.
    if (value !== '') setAction('override');
  }

  return (
    <form
      className="review-form"
      aria-labelledby={`${ids}-title`}
      data-testid="review-form"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <h3 id={`${ids}-title`}>{t('detail.review')}</h3>
      <fieldset>
        <legend className="visually-hidden">{t('detail.reviewChoice')}</legend>
        {canConfirm && (
          <label className="check">
            <input
              type="radio"
              name={`${ids}-action`}
              value="confirm"
              checked={action === 'confirm'}
              onChange={() => {
                setAction('confirm');
                setLabel('');
                setSaved(false);
              }}
            />
            {t(reviewed ? 'detail.confirmCurrent' : 'detail.confirm', {
              label: labelName(t, lang, confirmLabel, card),
            })}
          </label>
        )}
        <label className="check">
          <input
            type="radio"
            name={`${ids}-action`}
            value="override"
            checked={action === 'override'}
            onChange={() => {
              setAction('override');
              setSaved(false);
            }}
          />
          {t('detail.override')}
        </label>
        <label className="review-label">
          {t('detail.overrideLabel')}
          <select
            value={label}
            onChange={(e) => chooseLabel(e.target.value)}
            aria-required={action === 'override'}
            aria-invalid={action === 'override' && label === ''}
          >
            <option value="">{t('detail.chooseLabel')}</option>
            {labels.map((id) => (
              <option key={id} value={id}>
                {labelName(t, lang, id, card)}
              </option>
            ))}
          </select>
        </label>
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
          {saved === 'saved_locally' ? t('detail.reviewSavedLocally') : t('detail.reviewSaved')}
        </p>
      )}
      <div className="review-actions">
        <button
          type="submit"
          className="primary"
          disabled={saving || !chosen}
          aria-describedby={chosen ? undefined : `${ids}-why`}
        >
          {t('detail.submitReview')}
        </button>
        {!chosen && (
          <span id={`${ids}-why`} className="muted" data-testid="review-hint">
            {/* Without a model label to confirm (not an eardrum, ungradable) the only way is a label. */}
            {action === 'override' || !canConfirm ? t('detail.pickLabelFirst') : t('detail.chooseFirst')}
          </span>
        )}
      </div>
    </form>
  );
}
