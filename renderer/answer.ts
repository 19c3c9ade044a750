import type { TFunction } from 'i18next';
import type { DiagnosisView, LabelInfo, RecordSummary } from '../common/contract.ts';
import { formatPercent } from './format.ts';
import { labelName } from './labels.ts';

/**
 * The model's own answer in one line, as printed in the report: the condition with its probability, "Not
 * sure, needs a clinician" when the model would not name one (its probabilities are listed below it), or
 * plainly why there is none. Never the clinician's review (that is shown beside it).
 */
export function answerHeadline(
  t: TFunction,
  lang: string,
  record: Pick<RecordSummary, 'status' | 'gate' | 'gateReason' | 'modelLabel' | 'confidence' | 'decision'>,
  diagnosis: DiagnosisView | null,
  card?: readonly LabelInfo[],
): string {
  if (record.status === 'pending') return t('gate.pending');
  if (record.status === 'failed') return t('gate.failed');
  if (record.gate === 'not_eardrum') return t('gate.not_eardrum');
  if (record.gate === 'ungradable')
    return record.gateReason ? t(`gate.reason.${record.gateReason}`) : t('gate.ungradable');
  if ((diagnosis?.decision ?? record.decision) === 'not_sure') return t('decision.not_sure');
  const label = diagnosis?.label ?? record.modelLabel;
  const p = label && diagnosis ? (diagnosis.probabilities[label] ?? record.confidence) : record.confidence;
  return `${labelName(t, lang, label, card)} (${formatPercent(p, lang)})`;
}
