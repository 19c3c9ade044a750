import { performance } from 'node:perf_hooks';
import type { EngineEvent, EngineStatus } from '../../../common/contract.ts';
import type { ImageLibrary } from '../../library/library.ts';
import type { Diagnoser } from '../../model/diagnoser.ts';
import { ClaimTakenError } from '../../store/pg-shared.ts';
import type { ImageRow, Store } from '../../store/store.ts';
import { toEngineError, type EngineError } from '../../util/errors.ts';
import type { Logger } from '../../util/logger.ts';
import type { CatchUp } from './catch-up.ts';
import { classify, type Classified } from './classify.ts';
import type { ModelJob } from './model-queue.ts';
import type { Notifier } from './notify.ts';
import type { RecordStage } from './record.ts';
import type { Timings } from './timings.ts';
import { AnswerKeptLocally } from './upload-away.ts';

export interface ModelRunOptions {
  store: Store;
  diagnoser: Diagnoser;
  library: ImageLibrary;
  recorder: RecordStage;
  notifier: Notifier;
  timing: Timings;
  logger: Logger;
  /** With PostgreSQL: where answers go while the server is unreachable. */
  catchUp: CatchUp | null;
  running(): boolean;
  status(): EngineStatus;
  counted(kind: 'done' | 'failed'): void;
  /** An environmental failure (disk full, database locked), shown in the status. */
  reportError(path: string, e: EngineError): void;
}

/**
 * One model job from classify to record: the record is read (still waiting?), the worker diagnoses its
 * stored copy, the answer is committed and announced. A photo admitted while the database was unreachable
 * has no record yet: its answer joins it in the local queue, as does an answer whose commit cannot reach
 * the server.
 *
 * `classified` is called as soon as the model has answered, so the engine can start the next photo while
 * this answer is committed: the worker never waits for the database's round trips. Commits still happen
 * one at a time, in the order the answers came.
 */
export class ModelRun {
  private lastCommit: Promise<void> = Promise.resolve();

  constructor(private readonly o: ModelRunOptions) {}

  async run(job: ModelJob, classified: () => void = () => undefined): Promise<void> {
    const { o } = this;
    let row: ImageRow | undefined;
    let away = !!job.queued;
    if (!job.queued) {
      try {
        row = await o.store.row(job.imageId);
      } catch (err) {
        if (!o.catchUp?.lost(err))
          return o.reportError(job.path, toEngineError(err, `Reading record ${job.imageId}`));
        // A photo admitted in this run is diagnosed now from its copy, its answer kept until the server is
        // back; one whose copy is not known here waits for the server.
        if (!job.copy) return o.catchUp.park(job);
        away = true;
      }
      if (!away && row?.status !== 'pending') return;
    }
    if (row) this.emit({ type: 'processing', path: job.path, recordId: row.id, status: o.status() });
    const t0 = performance.now();
    const copy = row ? { sha256: row.sha256, storedPath: row.stored_path } : (job.queued ?? job.copy)!;
    const result = await classify(o.diagnoser, o.library, copy.storedPath, o.running);
    classified();
    const previous = this.lastCommit;
    let committed!: () => void;
    this.lastCommit = new Promise((r) => (committed = r));
    try {
      await previous;
      await this.record(job, row, copy, result, t0);
    } finally {
      committed();
    }
  }

  private async record(
    job: ModelJob,
    row: ImageRow | undefined,
    copy: { sha256: string },
    result: Classified,
    t0: number,
  ): Promise<void> {
    const { o } = this;
    try {
      const committed = row
        ? await o.recorder.commitResult(row, result).catch(async (err) => {
            if (!o.catchUp?.lost(err)) throw err;
            await o.catchUp.keep(job, row.sha256, result);
            // A hand upload waiting on it hears why now; the answer is written once the server is back.
            const e = toEngineError(err, `Saving the diagnosis of ${row.file_name}`);
            o.notifier.reject(row.id, new AnswerKeptLocally(e, result));
            return null;
          })
        : await o.catchUp!.keep(job, copy.sha256, result).then(() => null);
      o.counted('failure' in result ? 'failed' : 'done');
      if (committed) o.notifier.announceResult(job.path, committed, o.status);
      o.timing.add(job.readyAt, t0, job.stable);
    } catch (err) {
      // Another room took the photo over (this one's lease ran out): its answer is the one kept and heard.
      if (err instanceof ClaimTakenError) return o.logger.info(err.message);
      // The commit itself failed (disk full, database locked): the record stays pending and is retried at
      // the next start; the overlay, if written, is a complete file that will simply be reused.
      const e = toEngineError(err, `Saving the diagnosis of ${row?.file_name ?? job.path}`);
      o.reportError(job.path, e);
      if (row) o.notifier.reject(row.id, e);
      else if (job.queued) o.catchUp?.notKept(job.queued.entryId, e);
    }
  }

  private emit(e: EngineEvent): void {
    this.o.notifier.emit(e);
  }
}
