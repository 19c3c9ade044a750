import { useTranslation } from 'react-i18next';
import type { LabelInfo, NotSureReason, RecordSummary } from '../../common/contract.ts';
import { formatPercent } from '../format.ts';
import { labelName, notSureWhy } from '../labels.ts';

interface Props {
  record: Pick<
    RecordSummary,
    | 'status'
    | 'gate'
    | 'gateReason'
    | 'failure'
    | 'effectiveLabel'
    | 'modelLabel'
    | 'reviewedLabel'
    | 'decision'
  >;
  eardrumProbability?: number | null;
  /** Why the model was not sure (from the diagnosis), said under a not-sure headline. */
  notSureReasons?: readonly NotSureReason[];
  card?: readonly LabelInfo[];
  /** Large headline (Live) or compact (Detail header). */
  size?: 'large' | 'normal';
}

/**
 * The answer in words: the label, "Not sure, needs a clinician" when the model will not name one, or plainly
 * why there is none (no eardrum, too dark, unreadable).
 */
export function GateOutcome({ record, eardrumProbability, notSureReasons, card, size = 'normal' }: Props) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  let headline: string;
  let hint: string | null = null;
  let why: string | null = null;
  let tone: 'ok' | 'warn' | 'error' | 'muted' = 'ok';
  if (record.status === 'pending') {
    headline = t('gate.pending');
    tone = 'muted';
  } else if (record.status === 'failed') {
    headline = t('gate.failed');
    const code = record.failure?.code;
    hint = code ? t(`errors.codes.${code}`, { defaultValue: record.failure?.message ?? code }) : null;
    tone = 'error';
  } else if (record.gate === 'not_eardrum') {
    headline = t('gate.not_eardrum');
    hint =
      eardrumProbability !== null && eardrumProbability !== undefined
        ? t('gate.notEardrumHint', { probability: formatPercent(eardrumProbability, lang) })
        : null;
    tone = 'warn';
  } else if (record.gate === 'ungradable') {
    const reason = record.gateReason
      ? t(`gate.reason.${record.gateReason}`, { defaultValue: record.gateReason })
      : t('gate.ungradable');
    headline = reason;
    hint = t('gate.ungradableHint', { reason });
    tone = 'warn';
  } else if (record.decision === 'not_sure' && record.reviewedLabel === null) {
    // No label as the headline: a photo the model is unsure of waits for a clinician (issue 9).
    headline = t('decision.not_sure');
    hint = t('decision.hint');
    why = notSureWhy(t, notSureReasons);
    tone = 'warn';
  } else {
    headline = labelName(t, lang, record.effectiveLabel ?? record.modelLabel, card);
    // No number here: the eardrum check's score can be low (2.6%) and still pass its threshold, and
    // "Eardrum found (likelihood 2.6%)" would contradict itself.
    hint = record.reviewedLabel ? t('gate.reviewedHint') : t('gate.eardrumHint');
  }
  const Heading = size === 'large' ? 'h2' : 'h3';
  return (
    <div
      className={`gate-outcome gate-${tone} gate-${size}`}
      data-testid="gate-outcome"
      data-decision={record.decision ?? undefined}
    >
      <Heading className="gate-headline">{headline}</Heading>
      {hint && <p className="gate-hint">{hint}</p>}
      {why && <p className="gate-hint gate-why">{why}</p>}
    </div>
  );
}
