/**
 * Finds the lit field of view of an otoscope picture. Otoscopes differ in how they frame the ear
 * (a circular crop on black, a full rectangle with canal wall); cropping every picture to a square
 * around the lit area and masking it to a circle makes pictures from different otoscopes look alike,
 * so the model learns the eardrum and not the camera.
 */
export interface Box {
  /** Centre and side of a square, in pixels of the analysed picture. */
  cx: number;
  cy: number;
  side: number;
}

function luminance(data: Uint8Array, i: number): number {
  return 0.299 * data[i]! + 0.587 * data[i + 1]! + 0.114 * data[i + 2]!;
}

/** Percentile of values in [0, 256) by a 256-bin histogram (no sort: this runs for every picture). */
export function percentile256(values: Float32Array, p: number): number {
  const hist = new Uint32Array(256);
  for (let i = 0; i < values.length; i++) hist[Math.min(255, values[i]! | 0)]!++;
  const rank = Math.min(values.length - 1, Math.floor(p * values.length));
  let seen = 0;
  for (let b = 0; b < 256; b++) {
    seen += hist[b]!;
    if (seen > rank) return b;
  }
  return 255;
}

/** The square around the lit area (its shorter side, so a wide frame gives a centred square). */
export function findFieldOfView(data: Uint8Array, width: number, height: number): Box {
  const n = width * height;
  const lum = new Float32Array(n);
  for (let p = 0; p < n; p++) lum[p] = luminance(data, p * 3);
  const threshold = Math.max(18, 0.2 * percentile256(lum, 0.95));
  const rows = new Uint32Array(height);
  const cols = new Uint32Array(width);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (lum[y * width + x]! > threshold) {
        rows[y]!++;
        cols[x]!++;
      }
    }
  }
  const span = (counts: Uint32Array, across: number): [number, number] => {
    const need = Math.max(1, across * 0.04);
    let a = 0;
    while (a < counts.length - 1 && counts[a]! < need) a++;
    let b = counts.length - 1;
    while (b > a && counts[b]! < need) b--;
    return b - a < counts.length * 0.2 ? [0, counts.length - 1] : [a, b];
  };
  const [y0, y1] = span(rows, width);
  const [x0, x1] = span(cols, height);
  const side = Math.min(x1 - x0 + 1, y1 - y0 + 1);
  return { cx: (x0 + x1 + 1) / 2, cy: (y0 + y1 + 1) / 2, side };
}

/** A `size` x `size` mask: 1 inside the inscribed circle, fading to 0 over a few pixels at its rim. */
export function circleMask(size: number): Float32Array {
  const mask = new Float32Array(size * size);
  const r = size / 2;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const d = Math.hypot(x + 0.5 - r, y + 0.5 - r);
      mask[y * size + x] = Math.min(1, Math.max(0, (r - d) / 2));
    }
  }
  return mask;
}
