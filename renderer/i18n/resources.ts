import { TERMS } from '../../common/terms.ts';
import enJson from './en.json';
import koJson from './ko.json';

/**
 * The UI's translations: the JSON files plus the clinical terms of common/terms.ts (condition, ear,
 * gate-reason and decision names), which the CSV export and the printed report share with the screen.
 */
function withTerms<
  J extends { labels: object; ear: object; gate: object; decision: object },
  T extends (typeof TERMS)['en' | 'ko'],
>(json: J, terms: T) {
  return {
    ...json,
    labels: { ...terms.labels, ...json.labels },
    ear: { ...terms.ear, ...json.ear },
    gate: { ...json.gate, reason: terms.gateReason },
    decision: { ...json.decision, ...terms.decision, reasons: terms.notSureReason },
  };
}

export const en = withTerms(enJson, TERMS.en);
export const ko = withTerms(koJson, TERMS.ko);
