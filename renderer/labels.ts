import type { TFunction } from 'i18next';
import type { LabelInfo, NotSureReason, RecordSummary } from '../common/contract.ts';

/**
 * A label id in words: our own translation first (reviewed medical wording), then the model card's
 * names, then the raw id so an unexpected label is never hidden.
 */
export function labelName(
  t: TFunction,
  lang: string,
  id: string | null,
  card?: readonly LabelInfo[],
): string {
  if (!id) return '—';
  const key = `labels.${id}`;
  const translated = t(key);
  if (translated !== key) return translated;
  const info = card?.find((l) => l.id === id);
  if (info) return lang === 'ko' ? info.ko : info.en;
  return t('labels.unknown', { id });
}

/**
 * A record's label as a list shows it (visits, recent results): the clinician's once reviewed, "Not sure"
 * while the model is not sure and nobody has settled it, else the model's.
 */
export function recordLabelName(
  t: TFunction,
  lang: string,
  r: Pick<RecordSummary, 'effectiveLabel' | 'reviewedLabel' | 'decision'>,
  card?: readonly LabelInfo[],
): string {
  if (r.reviewedLabel === null && r.decision === 'not_sure') return t('decision.short');
  return labelName(t, lang, r.effectiveLabel, card);
}

/** The model's own label in words, marked "Not sure (…?)" when it was not sure of it. */
export function modelLabelName(
  t: TFunction,
  lang: string,
  r: Pick<RecordSummary, 'modelLabel' | 'decision'>,
  card?: readonly LabelInfo[],
): string {
  const name = labelName(t, lang, r.modelLabel, card);
  return r.decision === 'not_sure' ? t('decision.withGuess', { label: name }) : name;
}

/** Why the model was not sure, in words (`Why: no condition likely enough, …`), or null without reasons. */
export function notSureWhy(t: TFunction, reasons: readonly NotSureReason[] | undefined): string | null {
  if (!reasons || reasons.length === 0) return null;
  return t('decision.why', { reasons: reasons.map((r) => t(`decision.reasons.${r}`)).join(', ') });
}

/** Labels a reviewer may choose besides the model's: the picture shows no eardrum, or cannot be graded. */
export const REVIEW_GATE_LABELS = ['not_eardrum', 'ungradable'] as const;

/** Bucket keys of the per-day chart that are gates or states rather than labels. */
const NON_LABEL_BUCKETS = ['not_eardrum', 'ungradable', 'failed', 'pending'] as const;

export function bucketName(t: TFunction, lang: string, key: string, card?: readonly LabelInfo[]): string {
  if ((NON_LABEL_BUCKETS as readonly string[]).includes(key)) return t(`board.gateOptions.${key}`);
  return labelName(t, lang, key, card);
}

/** The default label order when no model card is loaded. */
export const KNOWN_LABELS = [
  'normal',
  'aom',
  'com',
  'effusion',
  'earwax',
  'otitis_externa',
  'tympanosclerosis',
  'ventilation_tube',
  'foreign_body',
  'pseudo_membrane',
] as const;
