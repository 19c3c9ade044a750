import * as tf from '@tensorflow/tfjs';
import type { ReferenceFeatures } from './reference-features.ts';

/**
 * How unlike the photos the model learned from a new photo is, in the model's own feature space: one minus
 * the mean cosine similarity to its `k` nearest reference eardrums, after centring on their mean (so the
 * similarity reflects what differs between eardrums, not what all of them share). Low for a photo like the
 * training ones; it grows for another camera, light or framing, which is when a clinician should look.
 * The similarities are one matrix product on the TF.js backend (about a millisecond on wasm).
 */
export class FamiliarityIndex {
  private readonly unit: tf.Tensor2D;
  private readonly centre: Float32Array;
  readonly dim: number;

  constructor(
    ref: ReferenceFeatures,
    readonly k: number,
  ) {
    const keep: number[] = [];
    ref.entries.forEach((e, r) => e.eardrum && keep.push(r));
    if (keep.length < k) throw new RangeError(`familiarity needs at least ${k} reference eardrums`);
    this.dim = ref.dim;
    this.centre = new Float32Array(ref.dim);
    for (const r of keep)
      for (let j = 0; j < ref.dim; j++) this.centre[j]! += ref.x[r * ref.dim + j]! / keep.length;
    const unit = new Float32Array(keep.length * ref.dim);
    keep.forEach((r, i) =>
      unit.set(this.normalise(ref.x.subarray(r * ref.dim, (r + 1) * ref.dim)), i * ref.dim),
    );
    this.unit = tf.tensor2d(unit, [keep.length, ref.dim]);
  }

  private normalise(v: Float32Array): Float32Array {
    const out = new Float32Array(this.dim);
    let norm = 0;
    for (let j = 0; j < this.dim; j++) {
      const c = v[j]! - this.centre[j]!;
      out[j] = c;
      norm += c * c;
    }
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let j = 0; j < this.dim; j++) out[j]! *= inv;
    return out;
  }

  /** In [0, 2]; `skipSelf` leaves out an exact match (scoring a reference photo against the others). */
  unfamiliarity(pooled: Float32Array, skipSelf = false): number {
    if (pooled.length !== this.dim)
      throw new RangeError(`expected ${this.dim} features, got ${pooled.length}`);
    const q = this.normalise(pooled);
    const top = tf.tidy(() => {
      const sims = tf.matMul(this.unit, tf.tensor2d(q, [this.dim, 1])).reshape([-1]);
      return tf.topk(sims, this.k + (skipSelf ? 1 : 0)).values;
    });
    let values = Array.from(top.dataSync());
    top.dispose();
    if (skipSelf) values = values[0]! > 0.99999 ? values.slice(1) : values.slice(0, this.k);
    return 1 - values.reduce((a, b) => a + b, 0) / this.k;
  }

  dispose(): void {
    this.unit.dispose();
  }
}
