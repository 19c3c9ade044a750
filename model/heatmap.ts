import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';

/**
 * Class activation map: the top label's dense weights applied to every cell of the last feature map.
 * Exact for a linear head on globally pooled features. Negative evidence is clipped; values are
 * scaled to [0, 1] by the map's maximum.
 */
export function classActivationMap(featureMap: tf.Tensor3D, kernelColumn: tf.Tensor1D): Float32Array {
  return tf.tidy(() => {
    const [h, w, c] = featureMap.shape;
    const cam = featureMap
      .reshape([h * w, c])
      .matMul(kernelColumn.reshape([c, 1]))
      .relu();
    const max = cam.max();
    return cam.div(max.add(1e-6)).dataSync() as Float32Array;
  }).slice();
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
  return sharp(out, { raw: { width: size, height: size, channels: 3 } }).png({ compressionLevel: 3 }).toBuffer();
}
