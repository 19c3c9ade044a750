import type { TFunction } from 'i18next';
import type { LabelInfo, UploadSavedLocally } from '../common/contract.ts';
import { labelName } from './labels.ts';

/**
 * What a photo chosen by hand came to while the clinic database could not be reached: the model's answer
 * (diagnosed here from its copy) and that it is kept on this workstation until the server is back.
 */
export function uploadSavedLocallyText(
  t: TFunction,
  lang: string,
  v: UploadSavedLocally,
  card?: readonly LabelInfo[],
): string {
  const a = v.answer;
  const answer = !a
    ? (v.failure?.message ?? t('gate.failed'))
    : a.gate === 'eardrum' && a.label
      ? `${labelName(t, lang, a.label, card)} ${Math.round((a.confidence ?? 0) * 100)}%` +
        (a.decision === 'not_sure' ? ` (${t('live.notSureShort')})` : '')
      : t(`gate.${a.gate}`);
  return t('live.uploadSavedLocally', { name: v.fileName, answer });
}
