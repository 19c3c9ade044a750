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

/** Jet-like colour ramp (blue → green → yellow → red) as a 256-entry RGB table. */
const RAMP = (() => {
  const table = new Uint8Array(256 * 3);
  const c = (x: number) => Math.round(255 * Math.min(1, Math.max(0, x)));
  for (let i = 0; i < 256; i++) {
    const v = i / 255;
    table[i * 3] = c(1.5 - Math.abs(4 * v - 3));
    table[i * 3 + 1] = c(1.5 - Math.abs(4 * v - 2));
    table[i * 3 + 2] = c(1.5 - Math.abs(4 * v - 1));
  }
  return table;
})();

/**
 * Draws the heatmap over the picture the network saw (its crop, in the photo's own colours): the grid is
 * smoothly upsampled (bilinear, corners aligned), coloured, and blended in proportion to activation, so
 * areas the model did not use show the eardrum untouched.
 */
export async function renderOverlayPng(
  view: Uint8Array,
  size: number,
  grid: Float32Array,
  rows: number,
  cols: number,
): Promise<Buffer> {
  const out = Buffer.alloc(size * size * 3);
  const sy = size > 1 ? (rows - 1) / (size - 1) : 0;
  const sx = size > 1 ? (cols - 1) / (size - 1) : 0;
  for (let y = 0; y < size; y++) {
    const gy = y * sy;
    const y0 = Math.floor(gy);
    const y1 = Math.min(rows - 1, y0 + 1);
    const fy = gy - y0;
    for (let x = 0; x < size; x++) {
      const gx = x * sx;
      const x0 = Math.floor(gx);
      const x1 = Math.min(cols - 1, x0 + 1);
      const fx = gx - x0;
      const top = grid[y0 * cols + x0]! * (1 - fx) + grid[y0 * cols + x1]! * fx;
      const bottom = grid[y1 * cols + x0]! * (1 - fx) + grid[y1 * cols + x1]! * fx;
      const v = Math.min(1, Math.max(0, top * (1 - fy) + bottom * fy));
      const k = Math.round(v * 255) * 3;
      const a = 0.6 * v;
      const p = (y * size + x) * 3;
      out[p] = Math.round(view[p]! * (1 - a) + RAMP[k]! * a);
      out[p + 1] = Math.round(view[p + 1]! * (1 - a) + RAMP[k + 1]! * a);
      out[p + 2] = Math.round(view[p + 2]! * (1 - a) + RAMP[k + 2]! * a);
    }
  }
  return sharp(out, { raw: { width: size, height: size, channels: 3 } })
    .png({ compressionLevel: 2, adaptiveFiltering: false })
    .toBuffer();
}
