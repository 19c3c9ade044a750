import type { QualityStats, QualityThresholds } from '../quality.ts';

function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.floor(q * s.length)))] ?? 0;
}

/**
 * Floors for "ungradable" from the training eardrums: at most `q` of them fall below each, and the
 * floors never go above fixed sanity limits (a frame darker than these is unreadable whatever the data).
 */
export function qualityThresholds(eardrums: QualityStats[], q: number): QualityThresholds {
  return {
    minBrightP95: Math.min(
      40,
      quantile(
        eardrums.map((e) => e.brightP95),
        q,
      ) * 0.9,
    ),
    maxClipped: Math.max(
      0.35,
      quantile(
        eardrums.map((e) => e.clipped),
        1 - q,
      ) * 1.1,
    ),
    minSharpness: Math.min(
      4,
      quantile(
        eardrums.map((e) => e.sharpness),
        q,
      ) * 0.9,
    ),
    minSide: 64,
  };
}
