/** Classification metrics used by training (model selection) and by `eardrum eval`. Pure functions. */

export interface PerLabel {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface ClassificationReport {
  labels: string[];
  accuracy: number;
  macroF1: number;
  perLabel: PerLabel[];
  /** confusion[trueIndex][predictedIndex] */
  confusion: number[][];
}

export function classificationReport(
  truth: string[],
  predicted: string[],
  labels: string[],
): ClassificationReport {
  const index = new Map(labels.map((l, i) => [l, i]));
  const confusion = labels.map(() => labels.map(() => 0));
  let correct = 0;
  for (let i = 0; i < truth.length; i++) {
    const t = index.get(truth[i]!);
    const p = index.get(predicted[i]!);
    if (truth[i] === predicted[i]) correct++;
    if (t !== undefined && p !== undefined) confusion[t]![p]!++;
  }
  const perLabel = labels.map((label, k) => {
    const tp = confusion[k]![k]!;
    const support = truth.filter((t) => t === label).length;
    const predictedCount = predicted.filter((p) => p === label).length;
    const precision = predictedCount ? tp / predictedCount : 0;
    const recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    return { label, precision, recall, f1, support };
  });
  const withSupport = perLabel.filter((p) => p.support > 0);
  const macroF1 = withSupport.length ? withSupport.reduce((s, p) => s + p.f1, 0) / withSupport.length : 0;
  return { labels, accuracy: truth.length ? correct / truth.length : 0, macroF1, perLabel, confusion };
}

/** Area under the ROC curve by the rank-sum (Mann-Whitney) formula, ties counted as half. */
export function rocAuc(scores: number[], positive: boolean[]): number {
  const order = scores.map((s, i) => [s, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(scores.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]![1]] = rank;
    i = j + 1;
  }
  let nPos = 0;
  let rankSum = 0;
  positive.forEach((p, i) => {
    if (p) {
      nPos++;
      rankSum += ranks[i]!;
    }
  });
  const nNeg = positive.length - nPos;
  if (!nPos || !nNeg) return Number.NaN;
  return (rankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/** Points of the ROC curve (false-positive rate, true-positive rate), for plotting. */
export function rocCurve(scores: number[], positive: boolean[]): { fpr: number; tpr: number }[] {
  const idx = scores.map((_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  const nPos = positive.filter(Boolean).length;
  const nNeg = positive.length - nPos;
  const points = [{ fpr: 0, tpr: 0 }];
  let tp = 0;
  let fp = 0;
  for (const i of idx) {
    if (positive[i]) tp++;
    else fp++;
    points.push({ fpr: nNeg ? fp / nNeg : 0, tpr: nPos ? tp / nPos : 0 });
  }
  return points;
}

export interface ReliabilityBin {
  lower: number;
  upper: number;
  count: number;
  confidence: number;
  accuracy: number;
}

/** Expected calibration error of the top-label confidence over equal-width bins. */
export function expectedCalibrationError(
  confidence: number[],
  correct: boolean[],
  bins = 10,
): { ece: number; bins: ReliabilityBin[] } {
  const out: ReliabilityBin[] = Array.from({ length: bins }, (_, b) => ({
    lower: b / bins,
    upper: (b + 1) / bins,
    count: 0,
    confidence: 0,
    accuracy: 0,
  }));
  confidence.forEach((c, i) => {
    const b = out[Math.min(bins - 1, Math.floor(c * bins))]!;
    b.count++;
    b.confidence += c;
    b.accuracy += correct[i] ? 1 : 0;
  });
  let ece = 0;
  for (const b of out) {
    if (!b.count) continue;
    b.confidence /= b.count;
    b.accuracy /= b.count;
    ece += (b.count / confidence.length) * Math.abs(b.accuracy - b.confidence);
  }
  return { ece: confidence.length ? ece : 0, bins: out };
}

/** Mean negative log-likelihood of the true labels. */
export function negativeLogLikelihood(probabilities: number[][], truth: number[]): number {
  let s = 0;
  truth.forEach((t, i) => (s -= Math.log(Math.max(1e-12, probabilities[i]![t]!))));
  return s / truth.length;
}

export function softmax(logits: ArrayLike<number>, temperature = 1): number[] {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]! / temperature);
  const e = Array.from(logits, (l) => Math.exp(l / temperature - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}
