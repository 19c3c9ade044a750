import type { StableFile } from '../stabilizer.ts';
import type { PhotoCopy } from './photo-sources.ts';

export interface ModelJob {
  imageId: number;
  path: string;
  /** When the file was judged complete (performance.now()), for timings. */
  readyAt: number;
  stable?: StableFile;
  /** Its copy, when admitted in this run: diagnosed even if the record cannot be read (server away). */
  copy?: PhotoCopy;
  /** A photo admitted while the database was unreachable: no record yet, its answer goes to the local queue. */
  queued?: { entryId: number; sha256: string; storedPath: string };
}

/** Queued photos have no record id yet: their local queue entry tells them apart. */
const keyOf = (job: ModelJob): number | string => (job.queued ? `q${job.queued.entryId}` : job.imageId);

/**
 * The queue between admit and classify: record ids (and a path for the events) only, so a burst of
 * thousands costs no memory. A record is queued at most once, and not while it is being diagnosed.
 */
export class ModelQueue {
  private readonly jobs: ModelJob[] = [];
  private readonly ids = new Set<number | string>();
  /** The job being diagnosed, if any. */
  current: ModelJob | null = null;

  get size(): number {
    return this.jobs.length;
  }

  add(job: ModelJob, front = false): void {
    const key = keyOf(job);
    if (this.ids.has(key) || (this.current && keyOf(this.current) === key)) return;
    this.ids.add(key);
    if (front) this.jobs.unshift(job);
    else this.jobs.push(job);
  }

  /** Takes the next job and makes it the current one. */
  take(): ModelJob | null {
    const job = this.jobs.shift();
    if (!job) return null;
    this.ids.delete(keyOf(job));
    this.current = job;
    return job;
  }

  clear(): void {
    this.jobs.length = 0;
    this.ids.clear();
  }
}
