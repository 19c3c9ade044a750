import type { DecodedImage } from './image-decode.ts';
import type { Box } from './field-of-view.ts';
import { circleMask } from './field-of-view.ts';
import type { PreprocessConfig } from './preprocess.ts';

const masks = new Map<number, Float32Array>();

/**
 * The inference-time twin of `toNetworkInput` without augmentation, in plain loops: the same bilinear
 * crop (TensorFlow's CropAndResize arithmetic, black outside the picture), gray-world balance, circular
 * mask and normalisation, but without creating a dozen small tensors per picture. A test holds the two
 * paths equal, so the shipped model sees exactly what it was trained on.
 */
export function networkInputFast(
  img: DecodedImage,
  cfg: PreprocessConfig,
  box: Box,
): { input: Float32Array; view: Uint8Array } {
  const { width: w, height: h, data } = img;
  const size = cfg.size;
  let bw = box.side;
  let bh = box.side;
  if (cfg.framing === 'squash') {
    bw = w;
    bh = h;
  }
  const y1 = (box.cy - bh / 2) / h;
  const x1 = (box.cx - bw / 2) / w;
  const y2 = (box.cy + bh / 2) / h;
  const x2 = (box.cx + bw / 2) / w;
  const hs = size > 1 ? ((y2 - y1) * (h - 1)) / (size - 1) : 0;
  const ws = size > 1 ? ((x2 - x1) * (w - 1)) / (size - 1) : 0;
  const px = new Float32Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    const yi = y1 * (h - 1) + y * hs;
    if (yi < 0 || yi > h - 1) continue;
    const top = Math.floor(yi);
    const bottom = Math.ceil(yi);
    const yl = yi - top;
    for (let x = 0; x < size; x++) {
      const xi = x1 * (w - 1) + x * ws;
      if (xi < 0 || xi > w - 1) continue;
      const left = Math.floor(xi);
      const right = Math.ceil(xi);
      const xl = xi - left;
      const o = (y * size + x) * 3;
      for (let c = 0; c < 3; c++) {
        const tl = data[(top * w + left) * 3 + c]!;
        const tr = data[(top * w + right) * 3 + c]!;
        const bl = data[(bottom * w + left) * 3 + c]!;
        const br = data[(bottom * w + right) * 3 + c]!;
        const t = tl + (tr - tl) * xl;
        const b = bl + (br - bl) * xl;
        px[o + c] = t + (b - t) * yl;
      }
    }
  }

  let mask: Float32Array | null = null;
  if (cfg.framing === 'fov-circle') {
    mask = masks.get(size) ?? circleMask(size);
    masks.set(size, mask);
  }
  const n = size * size;
  // The clinician sees the crop in its own colours (before white balance); the network sees it balanced.
  const view = new Uint8Array(n * 3);
  for (let p = 0; p < n * 3; p++)
    view[p] = Math.round(Math.min(255, Math.max(0, px[p]! * (mask ? mask[(p / 3) | 0]! : 1))));
  if (cfg.whiteBalance === 'grayworld') {
    const sums = [0, 0, 0];
    let count = 1;
    for (let p = 0; p < n; p++) {
      const o = p * 3;
      if ((px[o]! + px[o + 1]! + px[o + 2]!) / 3 <= 15) continue;
      const m = mask ? mask[p]! : 1;
      sums[0]! += px[o]! * m;
      sums[1]! += px[o + 1]! * m;
      sums[2]! += px[o + 2]! * m;
      count += m;
    }
    const means = sums.map((s) => s / count);
    const target = (means[0]! + means[1]! + means[2]!) / 3;
    const gains = means.map((m) => Math.min(2, Math.max(0.5, target / (m + 1))));
    for (let p = 0; p < n * 3; p++) px[p] = px[p]! * gains[p % 3]!;
  }
  const input = new Float32Array(n * 3);
  for (let p = 0; p < n; p++) {
    const m = mask ? mask[p]! : 1;
    for (let c = 0; c < 3; c++) {
      const v = Math.min(255, Math.max(0, px[p * 3 + c]! * m));
      input[p * 3 + c] = (v - cfg.mean[c]!) / cfg.std[c]!;
    }
  }
  return { input, view };
}
