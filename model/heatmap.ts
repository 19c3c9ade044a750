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

/** Bilinear upsampling of a `rows x cols` grid to `size x size` (corners aligned), separable. */
function upsample(grid: Float32Array, rows: number, cols: number, size: number): Float32Array {
  const axis = (cells: number) => {
    const lo = new Int32Array(size);
    const hi = new Int32Array(size);
    const frac = new Float32Array(size);
    const step = size > 1 ? (cells - 1) / (size - 1) : 0;
    for (let i = 0; i < size; i++) {
      const g = i * step;
      lo[i] = Math.floor(g);
      hi[i] = Math.min(cells - 1, lo[i]! + 1);
      frac[i] = g - lo[i]!;
    }
    return { lo, hi, frac };
  };
  const xs = axis(cols);
  const ys = axis(rows);
  const wide = new Float32Array(rows * size);
  for (let r = 0; r < rows; r++)
    for (let x = 0; x < size; x++) {
      const a = grid[r * cols + xs.lo[x]!]!;
      wide[r * size + x] = a + (grid[r * cols + xs.hi[x]!]! - a) * xs.frac[x]!;
    }
  const out = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    const t = ys.lo[y]! * size;
    const b = ys.hi[y]! * size;
    const fy = ys.frac[y]!;
    for (let x = 0; x < size; x++) {
      const top = wide[t + x]!;
      out[y * size + x] = top + (wide[b + x]! - top) * fy;
    }
  }
  return out;
}

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
  return sharp(overlayRgb(view, size, grid, rows, cols), { raw: { width: size, height: size, channels: 3 } })
    .png({ compressionLevel: 1, adaptiveFiltering: false })
    .toBuffer();
}

/** The overlay's RGB pixels (`size * size * 3`). */
function overlayRgb(view: Uint8Array, size: number, grid: Float32Array, rows: number, cols: number): Buffer {
  const heat = upsample(grid, rows, cols, size);
  const out = Buffer.allocUnsafe(size * size * 3);
  for (let p = 0, o = 0; p < size * size; p++, o += 3) {
    const h = heat[p]!;
    const v = h < 0 ? 0 : h > 1 ? 1 : h;
    const k = ((v * 255 + 0.5) | 0) * 3;
    // Blend weight 0.6·v in 1/256 steps: integer arithmetic keeps this per-pixel loop cheap.
    const a = (v * 153.6 + 0.5) | 0;
    const b = 256 - a;
    out[o] = (view[o]! * b + RAMP[k]! * a + 128) >> 8;
    out[o + 1] = (view[o + 1]! * b + RAMP[k + 1]! * a + 128) >> 8;
    out[o + 2] = (view[o + 2]! * b + RAMP[k + 2]! * a + 128) >> 8;
  }
  return out;
}
