import type { DecodedImage } from './image-decode.ts';
import type { Box } from './field-of-view.ts';
import { circleMask } from './field-of-view.ts';
import type { PreprocessConfig } from './preprocess.ts';

const masks = new Map<number, Float32Array>();

function maskFor(size: number): Float32Array {
  let mask = masks.get(size);
  if (!mask) masks.set(size, (mask = circleMask(size)));
  return mask;
}

/** One axis of TensorFlow's CropAndResize: source index pairs and weights, or -1 where outside the picture. */
function axisSamples(start: number, extent: number, length: number, size: number) {
  const lo = new Int32Array(size);
  const hi = new Int32Array(size);
  const frac = new Float32Array(size);
  const step = size > 1 ? (extent * (length - 1)) / (size - 1) : 0;
  for (let i = 0; i < size; i++) {
    const v = start * (length - 1) + i * step;
    if (v < 0 || v > length - 1) {
      lo[i] = -1;
      continue;
    }
    lo[i] = Math.floor(v);
    hi[i] = Math.ceil(v);
    frac[i] = v - lo[i]!;
  }
  return { lo, hi, frac };
}

/**
 * The inference-time twin of `toNetworkInput` without augmentation, in plain loops: the same bilinear
 * crop (TensorFlow's CropAndResize arithmetic, black outside the picture), gray-world balance, circular
 * mask and normalisation, but without creating a dozen small tensors per picture. A test holds the two
 * paths equal, so the shipped model sees exactly what it was trained on. Runs once per picture on the
 * latency path, hence the index tables and flat loops.
 */
export function networkInputFast(
  img: DecodedImage,
  cfg: PreprocessConfig,
  box: Box,
): { input: Float32Array; view: Uint8Array } {
  const { width: w, height: h, data } = img;
  const size = cfg.size;
  const bw = cfg.framing === 'squash' ? w : box.side;
  const bh = cfg.framing === 'squash' ? h : box.side;
  const ys = axisSamples((box.cy - bh / 2) / h, bh / h, h, size);
  const xs = axisSamples((box.cx - bw / 2) / w, bw / w, w, size);
  const n = size * size;
  const px = new Float32Array(n * 3);
  for (let y = 0; y < size; y++) {
    const top = ys.lo[y]!;
    if (top < 0) continue;
    const rowT = top * w * 3;
    const rowB = ys.hi[y]! * w * 3;
    const yl = ys.frac[y]!;
    let o = y * size * 3;
    for (let x = 0; x < size; x++, o += 3) {
      const left = xs.lo[x]!;
      if (left < 0) continue;
      const l3 = left * 3;
      const r3 = xs.hi[x]! * 3;
      const xl = xs.frac[x]!;
      for (let c = 0; c < 3; c++) {
        const tl = data[rowT + l3 + c]!;
        const bl = data[rowB + l3 + c]!;
        const t = tl + (data[rowT + r3 + c]! - tl) * xl;
        const b = bl + (data[rowB + r3 + c]! - bl) * xl;
        px[o + c] = t + (b - t) * yl;
      }
    }
  }

  const mask = cfg.framing === 'fov-circle' ? maskFor(size) : null;
  // The clinician sees the crop in its own colours (before white balance); the network sees it balanced.
  const view = new Uint8Array(n * 3);
  let g0 = 1;
  let g1 = 1;
  let g2 = 1;
  if (cfg.whiteBalance === 'grayworld') {
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let count = 1;
    for (let p = 0, o = 0; p < n; p++, o += 3) {
      const r = px[o]!;
      const g = px[o + 1]!;
      const b = px[o + 2]!;
      if ((r + g + b) / 3 <= 15) continue;
      const m = mask ? mask[p]! : 1;
      s0 += r * m;
      s1 += g * m;
      s2 += b * m;
      count += m;
    }
    const m0 = s0 / count;
    const m1 = s1 / count;
    const m2 = s2 / count;
    const target = (m0 + m1 + m2) / 3;
    const gain = (m: number) => Math.min(2, Math.max(0.5, target / (m + 1)));
    g0 = gain(m0);
    g1 = gain(m1);
    g2 = gain(m2);
  }
  const [mean0, mean1, mean2] = cfg.mean as [number, number, number];
  const [std0, std1, std2] = cfg.std as [number, number, number];
  const input = new Float32Array(n * 3);
  const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);
  for (let p = 0, o = 0; p < n; p++, o += 3) {
    const m = mask ? mask[p]! : 1;
    const r = px[o]!;
    const g = px[o + 1]!;
    const b = px[o + 2]!;
    view[o] = Math.round(clamp(r * m));
    view[o + 1] = Math.round(clamp(g * m));
    view[o + 2] = Math.round(clamp(b * m));
    input[o] = (clamp(Math.fround(r * g0) * m) - mean0) / std0;
    input[o + 1] = (clamp(Math.fround(g * g1) * m) - mean1) / std1;
    input[o + 2] = (clamp(Math.fround(b * g2) * m) - mean2) / std2;
  }
  return { input, view };
}
