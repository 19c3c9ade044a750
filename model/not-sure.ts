import type { Decision, NotSureReason } from './types.ts';

/**
 * When the model says "not sure" instead of a label: its calibrated top probability is low, or the photo
 * is unlike the photos it learned from (another camera, light or framing). Both thresholds are chosen on
 * the validation split and stored in the model card.
 */
export interface NotSureRule {
  /** Lowest calibrated top probability of a confident answer. */
  minConfidence: number;
  /** Highest unfamiliarity (FamiliarityIndex) of a confident answer. */
  maxUnfamiliarity: number;
  /** Neighbours averaged by the familiarity index. */
  k: number;
}

export function decide(
  confidence: number,
  unfamiliarity: number,
  rule: NotSureRule,
): { decision: Decision; reasons: NotSureReason[] } {
  const reasons: NotSureReason[] = [];
  if (confidence < rule.minConfidence) reasons.push('low_confidence');
  if (unfamiliarity > rule.maxUnfamiliarity) reasons.push('unfamiliar');
  return { decision: reasons.length ? 'not_sure' : 'confident', reasons };
}

export interface ScoredAnswer {
  confidence: number;
  unfamiliarity: number;
  correct: boolean;
}

/**
 * Chooses the rule on validation answers: the unfamiliarity limit is the `familiarQuantile` of validation
 * eardrums (photos like the training ones pass), then the confidence floor is the lowest one whose confident
 * answers reach `targetAccuracy` (the most coverage for that accuracy).
 */
export function fitNotSureRule(
  answers: ScoredAnswer[],
  opts: { targetAccuracy: number; familiarQuantile: number; k: number },
): NotSureRule & { coverage: number; confidentAccuracy: number } {
  if (!answers.length) throw new RangeError('no validation answers to choose the not-sure rule on');
  const u = answers.map((a) => a.unfamiliarity).sort((a, b) => a - b);
  const maxUnfamiliarity = u[Math.min(u.length - 1, Math.floor(opts.familiarQuantile * u.length))]!;
  const familiar = answers.filter((a) => a.unfamiliarity <= maxUnfamiliarity);
  const byConfidence = [...familiar].sort((a, b) => b.confidence - a.confidence);
  let best = { minConfidence: 1, coverage: 0, confidentAccuracy: 1 };
  let right = 0;
  byConfidence.forEach((a, i) => {
    right += a.correct ? 1 : 0;
    const next = byConfidence[i + 1];
    // Only cut between distinct confidences, so the rule admits exactly the answers counted here.
    if (next && next.confidence === a.confidence) return;
    const accuracy = right / (i + 1);
    if (accuracy >= opts.targetAccuracy) {
      best = { minConfidence: a.confidence, coverage: (i + 1) / answers.length, confidentAccuracy: accuracy };
    }
  });
  return { ...best, maxUnfamiliarity, k: opts.k };
}
