import { percentile256 } from './field-of-view.ts';
import type { UngradableReason } from './types.ts';

/** Image statistics behind the "ungradable" outcome, measured on the working-size picture. */
export interface QualityStats {
  /** 95th percentile of luminance (0-255): low means nothing in the frame is lit. */
  brightP95: number;
  /** Share of pixels that are clipped white. */
  clipped: number;
  /** Variance of the Laplacian of luminance inside the central region: low means blurred. */
  sharpness: number;
  minSide: number;
}

export interface QualityThresholds {
  minBrightP95: number;
  maxClipped: number;
  minSharpness: number;
  minSide: number;
}

export function measureQuality(
  data: Uint8Array,
  width: number,
  height: number,
  originalMinSide: number,
): QualityStats {
  const n = width * height;
  const lum = new Float32Array(n);
  let clipped = 0;
  for (let p = 0; p < n; p++) {
    const i = p * 3;
    const l = 0.299 * data[i]! + 0.587 * data[i + 1]! + 0.114 * data[i + 2]!;
    lum[p] = l;
    if (l >= 250) clipped++;
  }
  const brightP95 = n ? percentile256(lum, 0.95) : 0;
  // Sharpness on the central 60% (the eardrum), ignoring the dark border where edges are the FOV rim.
  let sum = 0;
  let sumSq = 0;
  let count = 0;
  const x0 = Math.max(1, Math.floor(width * 0.2));
  const x1 = Math.min(width - 1, Math.ceil(width * 0.8));
  const y0 = Math.max(1, Math.floor(height * 0.2));
  const y1 = Math.min(height - 1, Math.ceil(height * 0.8));
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const p = y * width + x;
      const lap = 4 * lum[p]! - lum[p - 1]! - lum[p + 1]! - lum[p - width]! - lum[p + width]!;
      sum += lap;
      sumSq += lap * lap;
      count++;
    }
  }
  const mean = count ? sum / count : 0;
  const sharpness = count ? sumSq / count - mean * mean : 0;
  return { brightP95, clipped: n ? clipped / n : 0, sharpness, minSide: originalMinSide };
}

/** The first reason the picture cannot be graded, or null when it can. */
export function ungradableReason(q: QualityStats, t: QualityThresholds): UngradableReason | null {
  if (q.minSide < t.minSide) return 'too_small';
  if (q.brightP95 < t.minBrightP95) return 'too_dark';
  if (q.clipped > t.maxClipped) return 'overexposed';
  if (q.sharpness < t.minSharpness) return 'blurred';
  return null;
}
