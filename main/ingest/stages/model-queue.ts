import type { StableFile } from '../stabilizer.ts';

export interface ModelJob {
  imageId: number;
  path: string;
  /** When the file was judged complete (performance.now()), for timings. */
  readyAt: number;
  stable?: StableFile;
}

/**
 * The queue between admit and classify: record ids (and a path for the events) only, so a burst of
 * thousands costs no memory. A record is queued at most once, and not while it is being diagnosed.
 */
export class ModelQueue {
  private readonly jobs: ModelJob[] = [];
  private readonly ids = new Set<number>();
  /** The job being diagnosed, if any. */
  current: ModelJob | null = null;

  get size(): number {
    return this.jobs.length;
  }

  add(job: ModelJob, front = false): void {
    if (this.ids.has(job.imageId) || this.current?.imageId === job.imageId) return;
    this.ids.add(job.imageId);
    if (front) this.jobs.unshift(job);
    else this.jobs.push(job);
  }

  /** Takes the next job and makes it the current one. */
  take(): ModelJob | null {
    const job = this.jobs.shift();
    if (!job) return null;
    this.ids.delete(job.imageId);
    this.current = job;
    return job;
  }

  clear(): void {
    this.jobs.length = 0;
    this.ids.clear();
  }
}
