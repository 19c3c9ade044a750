import * as tf from '@tensorflow/tfjs';
import type { Sample } from '../data/dataset.ts';
import { decodeImage } from '../image-decode.ts';
import { ImageInputError } from '../errors.ts';
import { compileFusedForward } from '../fused-forward.ts';
import {
  randomAugmentation,
  toNetworkInput,
  type Augmentation,
  type PreprocessConfig,
} from '../preprocess.ts';
import { measureQuality, type QualityStats } from '../quality.ts';
import { progressLine } from './progress.ts';

export interface FeatureSet {
  /** Row-major [rows x dim] pooled features. */
  x: Float32Array;
  dim: number;
  rows: number;
  /** Index into the sample list for each row (augmented views repeat their sample). */
  sample: Int32Array;
  augmented: Uint8Array;
  quality: QualityStats[];
}

/**
 * Runs the backbone over every sample: one clean view each, plus `views` randomly augmented ones for
 * samples where `augment(sample)` is true. Pooled (global average) feature vectors come back in order.
 */
export async function extractFeatures(
  extractor: tf.LayersModel,
  samples: Sample[],
  cfg: PreprocessConfig,
  workSize: number,
  opts: {
    views: number;
    augment: (s: Sample) => boolean;
    rand: () => number;
    label: string;
    /** How an augmented view is drawn (default: `randomAugmentation`). */
    makeAug?: (rand: () => number) => Augmentation;
  },
): Promise<FeatureSet> {
  const rows: Float32Array[] = [];
  const sample: number[] = [];
  const augmented: number[] = [];
  const quality: QualityStats[] = [];
  const total = samples.reduce((n, s) => n + 1 + (opts.augment(s) ? opts.views : 0), 0);
  const started = Date.now();
  let lastReport = 0;
  const forward = compileFusedForward(extractor) ?? ((x: tf.Tensor4D) => [extractor.predict(x)].flat());
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    let img;
    try {
      img = await decodeImage(s.file, workSize);
    } catch (err) {
      if (err instanceof ImageInputError) throw new Error(`training image ${s.file}: ${err.message}`);
      throw err;
    }
    const q = measureQuality(
      img.data,
      img.width,
      img.height,
      Math.min(img.original.width, img.original.height),
    );
    const views = 1 + (opts.augment(s) ? opts.views : 0);
    for (let v = 0; v < views; v++) {
      const aug = v === 0 ? undefined : (opts.makeAug ?? randomAugmentation)(opts.rand);
      const pooled = tf.tidy(() => {
        const { input } = toNetworkInput(img, cfg, aug);
        const maps = forward(input.expandDims(0) as tf.Tensor4D);
        return tf.concat(
          maps.map((m) => m.mean([1, 2])),
          1,
        );
      });
      rows.push((await pooled.data()) as Float32Array);
      pooled.dispose();
      sample.push(i);
      augmented.push(v > 0 ? 1 : 0);
      quality.push(q);
    }
    if (Date.now() - lastReport > 5000 || i === samples.length - 1) {
      lastReport = Date.now();
      process.stderr.write(`\r${progressLine(opts.label, rows.length, total, started)}   `);
    }
  }
  process.stderr.write('\n');
  const dim = rows[0]?.length ?? 0;
  const x = new Float32Array(rows.length * dim);
  rows.forEach((r, k) => x.set(r, k * dim));
  return {
    x,
    dim,
    rows: rows.length,
    sample: Int32Array.from(sample),
    augmented: Uint8Array.from(augmented),
    quality,
  };
}

export function selectRows(
  f: FeatureSet,
  keep: (row: number) => boolean,
): { x: Float32Array; rows: number[] } {
  const rows: number[] = [];
  for (let r = 0; r < f.rows; r++) if (keep(r)) rows.push(r);
  const x = new Float32Array(rows.length * f.dim);
  rows.forEach((r, k) => x.set(f.x.subarray(r * f.dim, (r + 1) * f.dim), k * f.dim));
  return { x, rows };
}
