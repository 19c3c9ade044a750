import type { StableFile } from '../stabilizer.ts';
import type { Admitted } from './admit.ts';
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

/** The model's job for a photo admitted into the local queue; none when it cannot be diagnosed. */
export function modelJobOf(
  a: Extract<Admitted, { kind: 'queued' }>,
  file: string,
  readyAt: number,
): ModelJob | null {
  const { image } = a.photo;
  if (!image.storedPath || image.failure) return null;
  return {
    imageId: 0,
    path: file,
    readyAt,
    queued: { entryId: a.entryId, sha256: image.sha256, storedPath: image.storedPath },
  };
}

/** Queued photos have no record id yet: their local queue entry tells them apart. */
const keyOf = (job: ModelJob): number | string => (job.queued ? `q${job.queued.entryId}` : job.imageId);

/**
 * The queue between admit and classify: record ids (and a path for the events) only, so a burst of
 * thousands costs no memory. A record is queued at most once, and not while it is being diagnosed or its
 * answer is being committed.
 */
export class ModelQueue {
  private readonly jobs: ModelJob[] = [];
  private readonly ids = new Set<number | string>();
  private readonly committing = new Set<number | string>();
  /** The job being diagnosed, if any. */
  current: ModelJob | null = null;

  get size(): number {
    return this.jobs.length;
  }

  /** Answers given by the model and not yet committed. */
  get recording(): number {
    return this.committing.size;
  }

  /** The current job has its answer: the model is free for the next one while the answer is committed. */
  classified(): ModelJob {
    const job = this.current!;
    this.committing.add(keyOf(job));
    this.current = null;
    return job;
  }

  recorded(job: ModelJob): void {
    this.committing.delete(keyOf(job));
  }

  add(job: ModelJob, front = false): void {
    const key = keyOf(job);
    if (this.ids.has(key) || this.committing.has(key) || (this.current && keyOf(this.current) === key))
      return;
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
