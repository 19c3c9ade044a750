import { negativeLogLikelihood, softmax } from '../eval/metrics.ts';

/**
 * Temperature scaling: the single divisor of the logits that minimises the negative log-likelihood
 * on held-out data (golden-section search over log T). It changes confidence, never the ranking.
 */
export function fitTemperature(logits: Float32Array, classes: number, truth: number[]): number {
  const nll = (t: number) =>
    negativeLogLikelihood(
      truth.map((_, i) => softmax(logits.subarray(i * classes, (i + 1) * classes), t)),
      truth,
    );
  let a = Math.log(0.05);
  let b = Math.log(20);
  const g = (Math.sqrt(5) - 1) / 2;
  let c = b - g * (b - a);
  let d = a + g * (b - a);
  for (let k = 0; k < 60; k++) {
    if (nll(Math.exp(c)) < nll(Math.exp(d))) b = d;
    else a = c;
    c = b - g * (b - a);
    d = a + g * (b - a);
  }
  return Math.exp((a + b) / 2);
}

/**
 * The highest gate threshold (minimum eardrum probability) that rejects at most `maxEardrumRejection`
 * of the held-out eardrum images: as strict as possible on negatives within that allowance.
 */
export function chooseGateThreshold(eardrumProbs: number[], maxEardrumRejection: number): number {
  const sorted = [...eardrumProbs].sort((x, y) => x - y);
  const allowed = Math.floor(maxEardrumRejection * sorted.length);
  // Rejecting exactly the `allowed` lowest: threshold just above the allowed-th lowest value.
  const below = allowed > 0 ? sorted[allowed - 1]! : 0;
  const at = sorted[allowed] ?? 1;
  return Math.min(0.95, Math.max(0.01, (below + at) / 2));
}
