import { performance } from 'node:perf_hooks';
import type { StableFile } from '../stabilizer.ts';

/** Per-image timings for the benchmark and the log. */
export interface IngestTiming {
  /** Watch event → file judged complete. */
  waitMs: number;
  /** Complete → diagnosis committed and event sent. */
  processMs: number;
  /** Estimated file close (last change) → committed. */
  closedToCommitMs: number;
}

/** How long images take through the stages: a running mean for the ETA, recent samples for the benchmark. */
export class Timings {
  /** Mean time in the model and record stages (ms), recent images weighing most; null before the first. */
  avgMs: number | null = null;
  /** Timings of recent watched images; bounded. */
  readonly recent: IngestTiming[] = [];

  /** One image committed: it was judged complete at `readyAt` and reached the model at `modelStart`. */
  add(readyAt: number, modelStart: number, stable?: StableFile): void {
    const end = performance.now();
    const processMs = end - readyAt;
    this.avgMs = this.avgMs === null ? end - modelStart : this.avgMs * 0.8 + (end - modelStart) * 0.2;
    if (!stable) return;
    const nowWall = Date.now();
    this.recent.push({
      waitMs: nowWall - processMs - stable.firstSeen,
      processMs,
      closedToCommitMs: nowWall - stable.changedAt,
    });
    if (this.recent.length > 20_000) this.recent.splice(0, 10_000);
  }
}
