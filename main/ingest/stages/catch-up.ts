import type {
  DatabaseConnection,
  EditSavedLocally,
  ErrorInfo,
  RecordSummary,
} from '../../../common/contract.ts';
import { ErrorCodes } from '../../../common/contract.ts';
import type { Diagnosis } from '../../../model/types.ts';
import type { Outbox, OutboxEntry, QueuedEdit, QueuedResult } from '../../store/outbox.ts';
import { ClaimTakenError } from '../../store/pg-shared.ts';
import type { ImageRow, Store } from '../../store/store.ts';
import { EngineError, isDatabaseUnreachable, toEngineError } from '../../util/errors.ts';
import type { Logger } from '../../util/logger.ts';
import type { Admitted, LocalQueue } from './admit.ts';
import type { Classified } from './classify.ts';
import type { ModelJob } from './model-queue.ts';
import type { PhotoSources, Stored } from './photo-sources.ts';
import { recordOf, writeQueuedEdits } from './queued-edits.ts';
import type { RecordStage } from './record.ts';

export type Committed = { record: RecordSummary | null; others: RecordSummary[] } & (
  { diagnosis: Diagnosis } | { failure: ErrorInfo }
);

export interface CatchUpOptions {
  outbox: Outbox;
  store: Store;
  sources: PhotoSources;
  recorder: RecordStage;
  logger: Logger;
  /** Claims a photo's job for this workstation (shared history); false while another room holds it. */
  claim(imageId: number): Promise<boolean>;
  /** The database state or the number waiting changed. */
  changed(): void;
  /** A queued photo written: announced (and, with no answer yet, sent to the model) as when admitted. */
  admitted(a: Stored, file: string): Promise<void>;
  /** A queued answer written. */
  recorded(file: string, c: Committed): void;
  /** Jobs the model could not start while the server was away, back in its queue. */
  requeue(jobs: ModelJob[]): void;
  /** A queued review or patient edit written. */
  edited(recordId: number): void;
}

/** Waits between tries to reach a lost server: short at first (a restart takes seconds), then every 5 s. */
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 5000;

/**
 * When the shared PostgreSQL goes away (restarted, network down) the workstation keeps watching and
 * diagnosing: admission writes each photo to the local queue (store/outbox.ts) instead, the model's answers
 * join it, and the server is tried again with a growing wait. Once it answers, the queue is written in
 * order and each entry removed after its write committed. The writes are idempotent, so an entry replayed
 * after a crash or a connection lost mid-commit adds nothing twice: a photo already written is found by
 * its watched file (kept in the same transaction as the record) or its bytes (the unique index), and an
 * answer is committed only to a record still waiting for one (diagnoses are append-only).
 *
 * Errors that are not "unreachable" (a constraint, a bug) are not retried forever: the entry is set aside
 * with its reason, shown in the status, and tried again at the next start.
 */
export class CatchUp {
  private state: DatabaseConnection['state'] = 'connected';
  private since: string | null = null;
  private waiting: number;
  private refused = 0;
  private lastError: string | null = null;
  /** Why the server, answering again, cannot be used yet. */
  private refusal: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private delayMs: number;
  private draining: Promise<void> | null = null;
  private rerun = false;
  private stopped = false;
  /** Queued photos whose model job is waiting in this run: written once the answer joins them. */
  private readonly withModel = new Set<number>();
  private parked: ModelJob[] = [];
  /** Hand uploads kept here, waiting for the model's answer to give their caller. */
  private readonly answers = new Map<
    number,
    { resolve: (r: QueuedResult) => void; reject: (e: Error) => void }
  >();
  /** Photos (by hash) with an entry here: their answers are written from the queue, not diagnosed again. */
  private readonly held = new Map<string, number>();

  constructor(private readonly o: CatchUpOptions) {
    this.waiting = o.outbox.counts().waiting;
    for (const sha of o.outbox.photos()) this.hold(sha, 1);
    this.delayMs = RETRY_FIRST_MS;
  }

  status(): DatabaseConnection {
    return { state: this.state, since: this.since, waiting: this.waiting };
  }

  /** Why queued results could not be written (constraint, bug), for the status line; null if none. */
  get error(): ErrorInfo | null {
    if (this.refusal) return { code: ErrorCodes.databaseRefused, message: this.refusal };
    return this.refused && this.lastError
      ? {
          code: ErrorCodes.databaseRefused,
          message: `${this.refused} queued results could not be written: ${this.lastError}`,
        }
      : null;
  }

  /** Whether a photo's answer (from `file`, if given) waits here: no sweep or backlog diagnoses it again. */
  holds(sha256: string, file?: string): boolean {
    return this.held.has(sha256) && (file === undefined || this.o.outbox.hasPhotoFrom(file));
  }

  /** Where admission writes now: the local queue while the server is unreachable, else the database. */
  get queue(): LocalQueue | undefined {
    return this.state === 'unreachable' ? this.enqueue : undefined;
  }

  /**
   * Writes what an earlier run left in the queue (a crash or a stop while the server was away); a start
   * while the server is away (store/open-store.ts) begins unreachable and waits for it.
   */
  async start(): Promise<void> {
    try {
      await this.o.store.ping();
    } catch (err) {
      // Anything else (a newer schema met by the migrations) stops the start with its reason.
      if (!this.lost(err)) throw err;
      return;
    }
    if (this.waiting > 0) this.connected();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    // The photo stays queued (diagnosed at the next start); its caller hears that now.
    for (const a of this.answers.values())
      a.reject(new EngineError(ErrorCodes.cancelled, 'The engine stopped.'));
    this.answers.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.draining;
  }

  /**
   * True when `err` means the server cannot be reached: the engine then keeps the work here. Anything else
   * is the caller's to report.
   */
  lost(err: unknown): boolean {
    if (!isDatabaseUnreachable(err)) return false;
    if (this.state !== 'unreachable') {
      this.state = 'unreachable';
      this.since ??= new Date().toISOString();
      this.delayMs = RETRY_FIRST_MS;
      this.o.logger.warn(
        `the database cannot be reached (${toEngineError(err, 'database').message}); keeping results locally`,
      );
      this.o.changed();
    }
    this.schedule();
    return true;
  }

  /** The model's answer for a photo admitted into the queue, once it is kept there (a hand upload's). */
  answerOf(entryId: number): Promise<QueuedResult> {
    return new Promise((resolve, reject) => this.answers.set(entryId, { resolve, reject }));
  }

  /** A queued photo's answer could not be kept (the disk full): its caller hears why. */
  notKept(entryId: number, err: Error): void {
    this.answers.get(entryId)?.reject(err);
    this.answers.delete(entryId);
  }

  /** Whether a review or edit goes to the queue: the server is away, or earlier ones wait there (order). */
  get keepsEdits(): boolean {
    return this.state === 'unreachable' || this.o.outbox.hasEdits();
  }

  /** Keeps a review or patient edit made while the server is away; written in order once it is back. */
  saveEdit(edit: QueuedEdit): EditSavedLocally {
    this.o.outbox.addEdit(edit);
    this.waiting++;
    this.o.changed();
    if (this.state === 'catching_up') this.drain();
    return { savedLocally: true, at: edit.at, waiting: this.waiting, recordId: recordOf(edit) };
  }

  /** A model job for a record that could not be read: run again once the server is back. */
  park(job: ModelJob): void {
    this.parked.push(job);
  }

  /**
   * Keeps the model's answer: for a queued photo beside its entry, for a record whose commit could not
   * reach the server as an entry of its own. The overlay is written to the library first.
   */
  async keep(job: ModelJob, sha256: string, result: Classified): Promise<void> {
    const kept: QueuedResult =
      'failure' in result
        ? result
        : {
            diagnosis: result.diagnosis,
            overlayPath: await this.o.recorder.writeOverlay(sha256, result.diagnosis),
          };
    if (job.queued) {
      this.o.outbox.setResult(job.queued.entryId, kept);
      this.withModel.delete(job.queued.entryId);
      this.answers.get(job.queued.entryId)?.resolve(kept);
      this.answers.delete(job.queued.entryId);
    } else {
      this.o.outbox.addResult(job.imageId, job.path, sha256, kept);
      this.hold(sha256, 1);
      this.waiting++;
    }
    this.o.changed();
    if (this.state === 'catching_up') this.drain();
  }

  private readonly enqueue = (photo: Parameters<LocalQueue>[0]): Admitted => {
    const entryId = this.o.outbox.addPhoto(photo);
    this.hold(photo.image.sha256, 1);
    this.waiting++;
    if (photo.image.storedPath && !photo.image.failure) this.withModel.add(entryId);
    this.o.changed();
    return { kind: 'queued', entryId, photo };
  };

  private schedule(): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.probe();
    }, this.delayMs);
    this.delayMs = Math.min(this.delayMs * 2, RETRY_MAX_MS);
  }

  private async probe(): Promise<void> {
    try {
      await this.o.store.ping();
    } catch (err) {
      // Still away, or answering but refusing (a schema newer than this version, a password changed
      // meanwhile): the status says which, and the queue waits.
      const refusal = isDatabaseUnreachable(err) ? null : toEngineError(err, 'The clinic database').message;
      if (refusal !== this.refusal) {
        this.refusal = refusal;
        this.o.changed();
      }
      this.schedule();
      return;
    }
    this.refusal = null;
    if (this.stopped) return;
    this.o.logger.info(`the database is back; writing ${this.waiting} queued results`);
    this.connected();
  }

  private connected(): void {
    this.state = 'catching_up';
    this.o.changed();
    const jobs = this.parked;
    this.parked = [];
    if (jobs.length) this.o.requeue(jobs);
    this.drain();
  }

  /** One writer at a time; an answer arriving meanwhile makes it go round once more. */
  private drain(): void {
    if (this.draining) {
      this.rerun = true;
      return;
    }
    this.draining = (async () => {
      do {
        this.rerun = false;
        await this.writeAll();
      } while (this.rerun && !this.stopped && this.state === 'catching_up');
    })().finally(() => {
      this.draining = null;
    });
  }

  private async writeAll(): Promise<void> {
    let after = 0;
    for (;;) {
      const batch = this.o.outbox.next(after);
      if (batch.length === 0) break;
      for (const e of batch) {
        if (this.stopped || this.state !== 'catching_up') return;
        after = e.id;
        if (e.result === null && this.withModel.has(e.id)) continue; // written when the model answers
        try {
          await this.write(e);
          this.o.outbox.remove(e.id);
          this.hold(e.kind === 'photo' ? e.photo.image.sha256 : e.sha256, -1);
          this.waiting--;
        } catch (err) {
          if (this.lost(err)) return;
          const message = toEngineError(err, 'Writing a queued result').message;
          this.o.logger.error(message);
          this.o.outbox.setError(e.id, message);
          this.hold(e.kind === 'photo' ? e.photo.image.sha256 : e.sha256, -1);
          this.refused++;
          this.lastError = message;
        }
        this.o.changed();
      }
    }
    const { outbox, store, logger, edited } = this.o;
    const going = () => !this.stopped && this.state === 'catching_up';
    const e = await writeQueuedEdits({ outbox, store, logger, edited }, going, (err) => this.lost(err));
    this.waiting -= e.written;
    this.refused += e.refused;
    this.lastError = e.lastError ?? this.lastError;
    if (e.written + e.refused > 0) this.o.changed();
    if (this.withModel.size === 0 && this.state === 'catching_up' && !this.stopped) {
      this.state = 'connected';
      this.since = null;
      this.delayMs = RETRY_FIRST_MS;
      this.o.changed();
    }
  }

  private async write(e: OutboxEntry): Promise<void> {
    if (e.kind === 'result') {
      const holder = await this.holder(e.imageId);
      // Not waiting any more: the commit reached the server before its connection dropped, or the record
      // was settled otherwise. Committing again would add a second diagnosis.
      if (holder?.status === 'pending' && e.result) await this.record(e.path, holder, e.result);
      else if (holder && e.result) await this.arrivedUnheard(e.path, holder, e.result);
      return;
    }
    const { image } = e.photo;
    const f = image.sourceFile;
    // Written already (by a run cut short after the write, before the entry's removal): that same record.
    const known = f ? await this.o.store.knownSource(f.path, f.size, f.mtimeMs) : null;
    const stored: Stored =
      known !== null ? { kind: 'again', recordId: known } : await this.o.sources.record(e.photo);
    const holder = await this.holder(stored.recordId);
    if (holder?.status === 'pending' && holder.original_path === image.originalPath) {
      if (e.result) await this.record(image.originalPath, holder, e.result);
      else {
        const copy = holder.stored_path
          ? { sha256: holder.sha256, storedPath: holder.stored_path }
          : undefined;
        await this.o.admitted(
          { kind: 'new', recordId: holder.id, ...(copy ? { copy } : {}) },
          image.originalPath,
        );
      }
      return;
    }
    // Stored meanwhile from another file or room (its own answer stands), or admitted as a failure.
    if (stored.kind !== 'again') await this.o.admitted(stored, image.originalPath);
    else if (holder?.original_path === image.originalPath && e.result)
      await this.arrivedUnheard(image.originalPath, holder, e.result);
  }

  /**
   * A queued answer already on the server, written by this room (marked with its name): the commit landed
   * but its reply was lost with the connection, and the listener skips this room's own changes. Announced
   * now, as the commit would have been; another room's answer is announced by the listener.
   */
  private async arrivedUnheard(file: string, holder: ImageRow, r: QueuedResult): Promise<void> {
    const mine = holder.changed_by != null && holder.changed_by === this.o.store.shared?.workstation;
    if (mine && holder.status === ('diagnosis' in r ? 'done' : 'failed'))
      this.o.recorded(file, { ...(await this.o.recorder.outcome(holder.id)), ...r });
  }

  private hold(sha256: string, by: 1 | -1): void {
    const n = (this.held.get(sha256) ?? 0) + by;
    if (n > 0) this.held.set(sha256, n);
    else this.held.delete(sha256);
  }

  /** The record holding the photo's copy (and its diagnosis), given any of its records. */
  private async holder(id: number): Promise<ImageRow | undefined> {
    const row = await this.o.store.row(id);
    return row?.primary_id != null ? this.o.store.row(row.primary_id) : row;
  }

  /**
   * Commits a queued answer under this workstation's claim. Another room holding the photo (it took the
   * job while this one was away) is diagnosing it, and its answer is the one kept: null then.
   */
  private async commit(holder: ImageRow, r: QueuedResult): Promise<Committed | null> {
    if (!(await this.o.claim(holder.id))) return null;
    try {
      if ('failure' in r)
        return { ...(await this.o.recorder.fail(holder.id, r.failure)), failure: r.failure };
      const c = await this.o.recorder.commitWritten(holder.id, r.diagnosis, r.overlayPath);
      return { ...c, diagnosis: r.diagnosis };
    } catch (err) {
      if (err instanceof ClaimTakenError) return null;
      throw err;
    }
  }

  private async record(file: string, holder: ImageRow, r: QueuedResult): Promise<void> {
    const c = await this.commit(holder, r);
    if (c) this.o.recorded(file, c);
  }
}
