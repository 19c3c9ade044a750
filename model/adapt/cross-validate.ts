import { seededRandom } from '../train/softmax-head.ts';
import type { DenseWeights } from './head-weights.ts';
import {
  denseLogits,
  trainAdaptedHeads,
  type AdaptedHeads,
  type AdaptOptions,
  type ClinicRows,
  type Pause,
  type ReferenceRows,
} from './train-heads.ts';

/** Counts over the held-out photos: right = called an eardrum and given the clinician's label. */
export interface Tally {
  right: number;
  /** Called "not an eardrum" by the gate. */
  rejected: number;
}

export interface CrossValidation {
  folds: number;
  photos: number;
  before: Tally;
  after: Tally;
  perLabel: { label: string; photos: number; before: Tally; after: Tally }[];
}

/** The held-out class logits of every photo (row-major [photos × labels]), beside the summary. */
export interface CrossValidationRun {
  summary: CrossValidation;
  heldOutLogits: Float32Array;
}

/** Fold number per row: each label's rows dealt in turn over the folds, in a seeded random order. */
export function stratifiedFolds(labelIndex: Int32Array, folds: number, seed: number): Int32Array {
  const rand = seededRandom(seed);
  const out = new Int32Array(labelIndex.length);
  const byLabel = new Map<number, number[]>();
  labelIndex.forEach((k, i) => byLabel.set(k, [...(byLabel.get(k) ?? []), i]));
  let next = 0;
  for (const rows of byLabel.values()) {
    for (let i = rows.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [rows[i], rows[j]] = [rows[j]!, rows[i]!];
    }
    // Continue dealing where the previous label stopped, so small labels do not all land in fold 0.
    for (const r of rows) out[r] = next++ % folds;
  }
  return out;
}

/** Folds for `photos` with at least `smallest` photos in every label: 5, or fewer when a label has fewer. */
export function foldCount(smallest: number): number {
  return Math.max(2, Math.min(5, smallest));
}

function subset(c: ClinicRows, keep: (i: number) => boolean): ClinicRows {
  const idx: number[] = [];
  for (let i = 0; i < c.rows; i++) if (keep(i)) idx.push(i);
  const x = new Float32Array(idx.length * c.dim);
  idx.forEach((r, i) => x.set(c.x.subarray(r * c.dim, (r + 1) * c.dim), i * c.dim));
  return { x, rows: idx.length, dim: c.dim, labelIndex: Int32Array.from(idx, (r) => c.labelIndex[r]!) };
}

function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

/**
 * What adaptation would do for photos it has not seen: each fold of the clinic's photos is held out in
 * turn, the heads are trained on the reference plus the other folds, and the held-out photos are scored
 * with the base model's answers (`baseLogits`) and with the adapted heads. `threshold` is the gate's
 * minimum eardrum probability.
 */
export async function crossValidate(
  ref: ReferenceRows,
  clinic: ClinicRows,
  base: { classLogits: Float32Array[]; gateLogit: number[]; heads: AdaptedHeads },
  labels: readonly string[],
  threshold: number,
  o: AdaptOptions,
  folds: number,
  pause: Pause,
  onEpoch: () => void,
  start?: AdaptedHeads,
): Promise<CrossValidationRun> {
  const fold = stratifiedFolds(clinic.labelIndex, folds, o.seed);
  const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
  const beforeRight = new Uint8Array(clinic.rows);
  const beforeRejected = new Uint8Array(clinic.rows);
  const afterRight = new Uint8Array(clinic.rows);
  const afterRejected = new Uint8Array(clinic.rows);
  const heldOutLogits = new Float32Array(clinic.rows * labels.length);
  for (let i = 0; i < clinic.rows; i++) {
    beforeRejected[i] = sigmoid(base.gateLogit[i]!) < threshold ? 1 : 0;
    beforeRight[i] = !beforeRejected[i] && argmax(base.classLogits[i]!) === clinic.labelIndex[i] ? 1 : 0;
  }
  for (let f = 0; f < folds; f++) {
    const heads: { classHead: DenseWeights; gate: DenseWeights } = await trainAdaptedHeads(
      ref,
      subset(clinic, (i) => fold[i] !== f),
      labels.length,
      o,
      base.heads,
      pause,
      onEpoch,
      start,
    );
    for (let i = 0; i < clinic.rows; i++) {
      if (fold[i] !== f) continue;
      afterRejected[i] = sigmoid(denseLogits(heads.gate, clinic.x, i)[0]!) < threshold ? 1 : 0;
      const logits = denseLogits(heads.classHead, clinic.x, i);
      heldOutLogits.set(logits, i * labels.length);
      afterRight[i] = !afterRejected[i] && argmax(logits) === clinic.labelIndex[i] ? 1 : 0;
    }
  }
  const tally = (right: Uint8Array, rejected: Uint8Array, keep: (i: number) => boolean): Tally => {
    let r = 0;
    let j = 0;
    for (let i = 0; i < clinic.rows; i++) {
      if (!keep(i)) continue;
      r += right[i]!;
      j += rejected[i]!;
    }
    return { right: r, rejected: j };
  };
  const used = [...new Set(clinic.labelIndex)].sort((a, b) => a - b);
  const summary: CrossValidation = {
    folds,
    photos: clinic.rows,
    before: tally(beforeRight, beforeRejected, () => true),
    after: tally(afterRight, afterRejected, () => true),
    perLabel: used.map((k) => ({
      label: labels[k]!,
      photos: clinic.labelIndex.filter((v) => v === k).length,
      before: tally(beforeRight, beforeRejected, (i) => clinic.labelIndex[i] === k),
      after: tally(afterRight, afterRejected, (i) => clinic.labelIndex[i] === k),
    })),
  };
  return { summary, heldOutLogits };
}
