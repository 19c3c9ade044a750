function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** "features 120/1000 (12%) elapsed 1m02s ETA 7m34s" */
export function progressLine(
  what: string,
  done: number,
  total: number,
  startedAt: number,
  now = Date.now(),
): string {
  const elapsed = now - startedAt;
  const eta = done > 0 ? (elapsed / done) * (total - done) : Number.NaN;
  const share = total ? Math.floor((100 * done) / total) : 100;
  return `${what} ${done}/${total} (${share}%) elapsed ${duration(elapsed)} ETA ${Number.isNaN(eta) ? '?' : duration(eta)}`;
}
