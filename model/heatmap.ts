import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';

/**
 * Class activation map over one or more feature maps. Each map's cells are weighted by the label's
 * dense weights for that map's channels; maps are brought to the finest grid (bilinear keeps each map's
 * mean, so the sum stays an exact split of the label's logit over the picture) and added. Negative
 * evidence is clipped and the result scaled to [0, 1] by its maximum.
 */
export function classActivationMap(
  featureMaps: tf.Tensor3D[],
  kernelSlices: tf.Tensor1D[],
): { grid: Float32Array; rows: number; cols: number } {
  const rows = Math.max(...featureMaps.map((m) => m.shape[0]));
  const cols = Math.max(...featureMaps.map((m) => m.shape[1]));
  const grid = tf
    .tidy(() => {
      const parts = featureMaps.map((m, i) => {
        const [h, w, c] = m.shape;
        const cam = m
          .reshape([h * w, c])
          .matMul(kernelSlices[i]!.reshape([c, 1]))
          .reshape([h, w, 1]) as tf.Tensor3D;
        return h === rows && w === cols ? cam : tf.image.resizeBilinear(cam, [rows, cols], false, true);
      });
      const sum = tf.addN(parts).relu();
      return sum.div(sum.max().add(1e-6)).dataSync() as Float32Array;
    })
    .slice();
  return { grid, rows, cols };
}

/** Jet-like colour ramp (blue → green → yellow → red) for a value in [0, 1]. */
function ramp(v: number): [number, number, number] {
  const c = (x: number) => Math.round(255 * Math.min(1, Math.max(0, x)));
  return [c(1.5 - Math.abs(4 * v - 3)), c(1.5 - Math.abs(4 * v - 2)), c(1.5 - Math.abs(4 * v - 1))];
}

/**
 * Draws the heatmap over the picture the network saw: the grid is smoothly upsampled, coloured, and
 * blended with more opacity where activation is high, so low-activation areas show the eardrum plainly.
 */
export async function renderOverlayPng(
  view: Uint8Array,
  size: number,
  grid: Float32Array,
  rows: number,
  cols: number,
): Promise<Buffer> {
  const up = tf.tidy(
    () =>
      tf.image
        .resizeBilinear(tf.tensor3d(grid, [rows, cols, 1]), [size, size], true)
        .clipByValue(0, 1)
        .dataSync() as Float32Array,
  );
  const out = Buffer.alloc(size * size * 3);
  for (let p = 0; p < size * size; p++) {
    const v = up[p]!;
    const [r, g, b] = ramp(v);
    const a = 0.15 + 0.45 * v;
    out[p * 3] = Math.round(view[p * 3]! * (1 - a) + r * a);
    out[p * 3 + 1] = Math.round(view[p * 3 + 1]! * (1 - a) + g * a);
    out[p * 3 + 2] = Math.round(view[p * 3 + 2]! * (1 - a) + b * a);
  }
  return sharp(out, { raw: { width: size, height: size, channels: 3 } })
    .png({ compressionLevel: 3 })
    .toBuffer();
}
