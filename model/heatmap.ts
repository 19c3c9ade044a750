import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import type { Box } from './field-of-view.ts';
import type { PreprocessConfig } from './preprocess.ts';

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

/** The heatmap layer is at most this many pixels on its longest side (it is smooth; the browser scales it). */
export const LAYER_MAX_SIDE = 384;

/** Where the network's crop lies in the picture, so its heatmap can be put back onto the photo. */
export interface LayerGeometry {
  /** Size of the decoded picture the crop was cut from (the working size). */
  width: number;
  height: number;
  /** The crop box in that picture's pixels (`cropBox` in preprocess.ts). */
  box: Box;
  framing: PreprocessConfig['framing'];
  /** Side of the network input: the heatmap grid covers this square, corner to corner. */
  size: number;
  /** The upright photo's own size: the layer has its aspect ratio. */
  original: { width: number; height: number };
}

/** Activation below this is fully transparent; from here to FULL the layer fades in. */
const FADE_FROM = 0.4;
const FULL = 0.9;
/** Even the hottest spot lets the eardrum show through (the UI's opacity slider multiplies this). */
export const LAYER_MAX_ALPHA = 0.75;

/**
 * One axis of the layer: for each layer pixel, its position in the crop's sample grid (0 … size-1), or NaN
 * outside the crop. Mirrors TensorFlow's CropAndResize arithmetic (`networkInputFast`): sample i of the
 * crop reads the picture at index `start·(length−1) + i·step`.
 */
function cropAxis(layerLength: number, length: number, boxStart: number, boxExtent: number, size: number) {
  const start = boxStart / length;
  const step = size > 1 ? ((boxExtent / length) * (length - 1)) / (size - 1) : 0;
  const out = new Float32Array(layerLength);
  for (let p = 0; p < layerLength; p++) {
    // Centre of layer pixel p, in index space of the decoded picture (pixel centres at integers).
    const index = ((p + 0.5) / layerLength) * length - 0.5;
    const i = step > 0 ? (index - start * (length - 1)) / step : 0;
    out[p] = i >= -0.5 && i <= size - 0.5 ? i : Number.NaN;
  }
  return out;
}

/**
 * The heatmap as its own layer in the photo's geometry: RGBA, the upright photo's aspect ratio, the model's
 * crop mapped back to where it came from, coloured by activation and transparent where the activation is low,
 * outside the crop and outside its circular field of view. It holds no photo pixels, so laid over the photo
 * (stretched to the photo's box) it leaves the eardrum's own colours untouched wherever the model did not look.
 */
export function heatmapLayerRgba(
  grid: Float32Array,
  rows: number,
  cols: number,
  g: LayerGeometry,
): { data: Buffer; width: number; height: number } {
  const scale = Math.min(1, LAYER_MAX_SIDE / Math.max(g.original.width, g.original.height));
  const width = Math.max(1, Math.round(g.original.width * scale));
  const height = Math.max(1, Math.round(g.original.height * scale));
  const squash = g.framing === 'squash';
  const bw = squash ? g.width : g.box.side;
  const bh = squash ? g.height : g.box.side;
  const xs = gridAxis(cropAxis(width, g.width, g.box.cx - bw / 2, bw, g.size), g.size, cols);
  const ys = gridAxis(cropAxis(height, g.height, g.box.cy - bh / 2, bh, g.size), g.size, rows);
  const circle = g.framing === 'fov-circle';
  const out = Buffer.alloc(width * height * 4);
  const line = new Float32Array(cols);
  for (let y = 0; y < height; y++) {
    if (!ys.inside[y]) continue;
    // The grid interpolated to this row once; each pixel then interpolates along the row.
    const r0 = ys.lo[y]! * cols;
    const r1 = ys.hi[y]! * cols;
    const wy = ys.frac[y]!;
    for (let c = 0; c < cols; c++) line[c] = grid[r0 + c]! + (grid[r1 + c]! - grid[r0 + c]!) * wy;
    const dy2 = ys.d2[y]!;
    for (let x = 0; x < width; x++) {
      if (!xs.inside[x]) continue;
      // The circular mask the network saw (circleMask in field-of-view.ts), in crop pixels.
      const mask = circle ? (ys.r - Math.sqrt(xs.d2[x]! + dy2)) / 2 : 1;
      if (mask <= 0) continue;
      const a = line[xs.lo[x]!]!;
      const raw = a + (line[xs.hi[x]!]! - a) * xs.frac[x]!;
      const v = raw < 0 ? 0 : raw > 1 ? 1 : raw;
      const fade = (v - FADE_FROM) / (FULL - FADE_FROM);
      if (fade <= 0) continue;
      const k = ((v * 255 + 0.5) | 0) * 3;
      const o = (y * width + x) * 4;
      out[o] = RAMP[k]!;
      out[o + 1] = RAMP[k + 1]!;
      out[o + 2] = RAMP[k + 2]!;
      out[o + 3] = Math.round(255 * LAYER_MAX_ALPHA * (fade > 1 ? 1 : fade) * (mask > 1 ? 1 : mask));
    }
  }
  return { data: out, width, height };
}

/** Per layer pixel along one axis: inside the crop or not, the grid cells and weight, squared distance from the crop's centre. */
function gridAxis(crop: Float32Array, size: number, cells: number) {
  const n = crop.length;
  const inside = new Uint8Array(n);
  const lo = new Int32Array(n);
  const hi = new Int32Array(n);
  const frac = new Float32Array(n);
  const d2 = new Float32Array(n);
  const r = size / 2;
  for (let p = 0; p < n; p++) {
    const i = crop[p]!;
    if (Number.isNaN(i)) continue;
    inside[p] = 1;
    const clamped = Math.min(Math.max(i, 0), size - 1);
    const gpos = size > 1 ? (clamped * (cells - 1)) / (size - 1) : 0;
    lo[p] = Math.floor(gpos);
    hi[p] = Math.min(cells - 1, lo[p]! + 1);
    frac[p] = gpos - lo[p]!;
    d2[p] = (i + 0.5 - r) ** 2;
  }
  return { inside, lo, hi, frac, d2, r };
}

/** `heatmapLayerRgba` as a PNG (what the engine stores and the UI lays over the photo). */
export async function renderHeatmapLayerPng(
  grid: Float32Array,
  rows: number,
  cols: number,
  g: LayerGeometry,
): Promise<Buffer> {
  const layer = heatmapLayerRgba(grid, rows, cols, g);
  return sharp(layer.data, { raw: { width: layer.width, height: layer.height, channels: 4 } })
    .png({ compressionLevel: 3, adaptiveFiltering: false })
    .toBuffer();
}
