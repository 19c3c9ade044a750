import { performance } from 'node:perf_hooks';
import type {
  EngineEvent,
  EngineStatus,
  ErrorInfo,
  RecordSummary,
  Settings,
  UploadSavedLocally,
} from '../../common/contract.ts';
import { ErrorCodes } from '../../common/contract.ts';
import type { ImageLibrary } from '../library/library.ts';
import type { EngineOptions } from './engine-options.ts';
import type { Store } from '../store/store.ts';
import { EngineError, toEngineError } from '../util/errors.ts';
import type { Logger } from '../util/logger.ts';
import { silentLogger } from '../util/logger.ts';
import { WriteStabilizer, type StableFile } from './stabilizer.ts';
import { AdmitStage, type Admitted, type UploadMeta } from './stages/admit.ts';
import { JobClaims } from './stages/claims.ts';
import { CatchUp } from './stages/catch-up.ts';
import { handUpload } from './stages/hand-upload.ts';
import { ModelRun } from './stages/model-run.ts';
import { Notifier } from './stages/notify.ts';
import { PhotoSources } from './stages/photo-sources.ts';
import { RecordStage } from './stages/record.ts';
import { RemoteChanges } from './stages/remote.ts';
import { ModelQueue, modelJobOf } from './stages/model-queue.ts';
import { Timings, type IngestTiming } from './stages/timings.ts';
import { WatchStage } from './stages/watch.ts';

export type { EngineOptions } from './engine-options.ts';
export type { IngestTiming } from './stages/timings.ts';

const CONNECTED = { state: 'connected', since: null, waiting: 0 } as const;

/**
 * The watched-folder engine, a composition of stages (main/ingest/stages/):
 *
 *   watch → wait for the write to finish → admit → classify → record → notify
 *
 * `WatchStage` reports files; the `WriteStabilizer` holds each until its writer is done; `AdmitStage` reads
 * it and `PhotoSources` makes it a record (a new photo in the library, another source of a known one, or a
 * failure with its reason); `classify` runs the model worker on the stored copy; `RecordStage` commits the
 * answer; `Notifier` sends the events. Admission and the model each take one item at a time in arrival
 * order, and the queue between them holds record ids only, so a burst of thousands costs no memory.
 * On a history shared by several rooms, `JobClaims` decides which room diagnoses each photo (and takes
 * over a dead room's), and `RemoteChanges` announces the other rooms' results and reviews here; `CatchUp`
 * keeps admitted photos and answers in a local queue while the server is away, and writes them once back.
 */
export class Engine {
  private readonly store: Store;
  private readonly logger: Logger;
  private settings: Settings;
  private readonly maxIngestRetries: number;
  private readonly stabilityMs: number;

  private readonly notifier: Notifier;
  private readonly watch: WatchStage;
  private readonly stabilizer: WriteStabilizer;
  private readonly admit: AdmitStage;
  private readonly recorder: RecordStage;
  private readonly claims: JobClaims;
  private readonly remote: RemoteChanges | null;
  private readonly library: ImageLibrary;
  private readonly catchUp: CatchUp | null;
  private readonly model: ModelRun;

  private readonly readyQueue: StableFile[] = [];
  private readonly modelQueue = new ModelQueue();
  private readonly retries = new Map<string, number>();
  private ingesting = false;
  private running = false;
  private state: EngineStatus['state'] = 'stopped';
  private ingestError: ErrorInfo | null = null;
  private noticedTimer: NodeJS.Timeout | null = null;
  private counts = { done: 0, failed: 0, duplicates: 0 };
  private readonly timing = new Timings();
  private idleWaiters: (() => void)[] = [];
  /** Timings of recent images (for the benchmark); bounded. */
  get timings(): IngestTiming[] {
    return this.timing.recent;
  }

  constructor(opts: EngineOptions) {
    this.store = opts.store;
    this.library = opts.library;
    this.logger = opts.logger ?? silentLogger;
    this.settings = opts.settings;
    this.stabilityMs = opts.stabilityMs ?? 200;
    this.maxIngestRetries = opts.maxIngestRetries ?? 3;
    this.notifier = new Notifier(this.logger);
    this.watch = new WatchStage({
      dataDir: opts.dataDir,
      logger: this.logger,
      onFile: (file, size, mtimeMs) => {
        this.stabilizer.touch(file, size, mtimeMs);
        this.announceNoticed();
      },
      onChange: () => this.emitStatus(),
    });
    this.stabilizer = new WriteStabilizer((f) => this.onStable(f), this.stabilityMs);
    const sources = new PhotoSources({
      store: this.store,
      library: this.library,
      patterns: opts.patterns,
      logger: this.logger,
      settings: () => this.settings,
    });
    this.admit = new AdmitStage({
      store: this.store,
      sources,
      settings: () => this.settings,
      incompleteGraceMs: opts.incompleteGraceMs ?? 4000,
    });
    this.recorder = new RecordStage(this.store, this.library);
    this.claims = new JobClaims({
      store: this.store,
      library: this.library,
      logger: this.logger,
      leaseMs: opts.claimLeaseMs ?? 30_000,
      // A photo whose answer waits in the local queue is written from there, not diagnosed again.
      onClaimed: (row) => this.catchUp?.holds(row.sha256) || this.enqueue(row.id, row.original_path),
    });
    const { store, notifier, logger } = this;
    const { clinicSettingsChanged } = opts;
    const status = () => this.status();
    this.remote = RemoteChanges.of({ store, notifier, logger, status, clinicSettingsChanged });
    this.catchUp = opts.outbox
      ? new CatchUp({
          ...{ outbox: opts.outbox, store, sources, recorder: this.recorder, logger },
          claim: (id) => this.claims.take(id),
          changed: () => this.emitStatus(),
          // Written from the queue while nothing else may wake the model: a photo sent to it must start it.
          admitted: (a, file) =>
            this.admitted(a, file, { readyAt: performance.now() }).then(() => this.pump()),
          recorded: (file, c) => this.notifier.announceResult(file, c, () => this.status()),
          requeue: (jobs) => (jobs.forEach((j) => this.modelQueue.add(j)), this.pump()),
          edited: (id) => void this.recordUpdated(id).catch(() => undefined),
        })
      : null;
    this.model = new ModelRun({
      ...{ store, diagnoser: opts.diagnoser, library: this.library, recorder: this.recorder, logger },
      ...{ notifier, timing: this.timing, catchUp: this.catchUp },
      running: () => this.running,
      status: () => this.status(),
      counted: (kind) => void this.counts[kind]++,
      reportError: (path, e) => this.reportError(path, e),
    });
  }

  // ---- lifecycle ------------------------------------------------------------------------------------------

  async start(): Promise<void> {
    this.state = 'starting';
    this.running = true;
    // Records left pending by a crash or a stop (and, shared, other rooms' unclaimed ones): diagnosed first.
    await this.claims.start();
    await this.remote?.start();
    await this.watch.start(this.settings);
    await this.catchUp?.start();
    this.state = 'running';
    this.emitStatus();
    this.pump();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.noticedTimer) clearTimeout(this.noticedTimer);
    this.noticedTimer = null;
    await this.watch.stop();
    this.stabilizer.close();
    // Let the image being diagnosed finish and commit; queued ones stay pending for the next start.
    // A hung model must not keep the app from quitting: its record stays pending and resumes at next start.
    const deadline = Date.now() + 30_000;
    while ((this.modelQueue.current || this.modelQueue.recording || this.ingesting) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    await this.catchUp?.stop();
    this.readyQueue.length = 0;
    this.modelQueue.clear();
    await this.remote?.stop();
    await this.claims.stop();
    this.notifier.rejectAll(new EngineError(ErrorCodes.cancelled, 'The engine stopped.'));
    this.state = 'stopped';
    this.emitStatus();
  }

  /** Applies new settings; restarts the watcher when folder options changed. */
  async applySettings(next: Settings): Promise<void> {
    const prev = this.settings;
    this.settings = next;
    await this.watch.apply(prev, next);
    this.emit({ type: 'settings', settings: next });
    this.emitStatus();
  }

  get currentSettings(): Settings {
    return this.settings;
  }

  /** The local queue while the shared database is away (PostgreSQL); null on SQLite. */
  get localQueue(): CatchUp | null {
    return this.catchUp;
  }

  // ---- status and events ----------------------------------------------------------------------------------

  subscribe(listener: (e: EngineEvent) => void): () => void {
    return this.notifier.subscribe(listener);
  }

  private emit(e: EngineEvent): void {
    this.notifier.emit(e);
  }

  private emitStatus(): void {
    this.emit({ type: 'status', status: this.status() });
  }

  /**
   * Files still being written count as waiting, but send no event until they are complete: without this a
   * burst of large copies would read "idle" for seconds. At most one status per 250 ms during a burst.
   */
  private announceNoticed(): void {
    if (this.noticedTimer) return;
    this.noticedTimer = setTimeout(() => {
      this.noticedTimer = null;
      if (this.running) this.emitStatus();
    }, 250);
  }

  status(): EngineStatus {
    const queued =
      this.stabilizer.size + this.readyQueue.length + this.modelQueue.size + (this.ingesting ? 1 : 0);
    const processing = (this.modelQueue.current ? 1 : 0) + this.modelQueue.recording;
    return {
      state: this.state,
      watching: this.watch.watching,
      error: this.ingestError ?? this.watch.error ?? this.catchUp?.error ?? null,
      queued,
      processing,
      done: this.counts.done,
      failed: this.counts.failed,
      duplicates: this.counts.duplicates,
      etaMs:
        queued + processing > 0 && this.timing.avgMs !== null
          ? Math.round((queued + processing) * this.timing.avgMs)
          : null,
      avgProcessMs: this.timing.avgMs === null ? null : Math.round(this.timing.avgMs * 10) / 10,
      database: this.catchUp?.status() ?? CONNECTED,
    };
  }

  /** Resolves when nothing is waiting, being admitted or diagnosed. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private isIdle(): boolean {
    return (
      this.stabilizer.size === 0 &&
      this.readyQueue.length === 0 &&
      this.modelQueue.size === 0 &&
      !this.ingesting &&
      !this.modelQueue.current &&
      this.modelQueue.recording === 0
    );
  }

  /** Announces a record changed after the fact (review, patient edit, a rename followed). */
  async recordUpdated(id: number): Promise<void> {
    const record = await this.store.summary(id);
    if (record) this.emit({ type: 'record.updated', record });
  }

  // ---- the pipeline ---------------------------------------------------------------------------------------

  private onStable(f: StableFile): void {
    this.readyQueue.push(f);
    this.emit({ type: 'queued', path: f.path, status: this.status() });
    this.pump();
  }

  private pump(): void {
    if (!this.running) return;
    if (!this.ingesting && this.readyQueue.length > 0) {
      const f = this.readyQueue.shift()!;
      this.ingesting = true;
      void this.admitFile(f).finally(() => {
        this.ingesting = false;
        this.pump();
      });
    }
    // The next photo goes to the model while the previous answer is committed, but not further ahead.
    const free = !this.modelQueue.current && this.modelQueue.recording < 2;
    const job = free ? this.modelQueue.take() : null;
    if (job) {
      const classified = () => (this.modelQueue.classified(), this.pump());
      void this.model.run(job, classified).finally(() => {
        if (this.modelQueue.current === job) this.modelQueue.current = null;
        else this.modelQueue.recorded(job);
        this.pump();
        // 'done' carries the status from before its image left the stage; when nothing follows it, say idle.
        if (!this.modelQueue.current) this.emitStatus();
      });
    }
    if (this.isIdle()) {
      const ws = this.idleWaiters;
      this.idleWaiters = [];
      ws.forEach((w) => w());
    }
  }

  private async admitFile(f: StableFile): Promise<void> {
    const readyAt = performance.now();
    try {
      const admitted = await this.admit.file(f, this.catchUp?.queue);
      if (admitted.kind === 'unfinished') this.stabilizer.touch(f.path, f.size, f.mtimeMs, this.stabilityMs);
      else await this.admitted(admitted, f.path, { readyAt, stable: f });
      this.retries.delete(f.path);
      this.ingestError = null;
      this.watch.clearTransientError();
    } catch (err) {
      // The database went away: admitted again at once, into the local queue.
      if (this.catchUp?.lost(err)) return void this.readyQueue.unshift(f);
      this.reportError(f.path, toEngineError(err, `Ingesting ${f.path}`));
      // Disk full, locked database...: nothing was half-written; try the file again a little later.
      const n = (this.retries.get(f.path) ?? 0) + 1;
      this.retries.set(f.path, n);
      if (n <= this.maxIngestRetries && this.running)
        this.stabilizer.touch(f.path, f.size, f.mtimeMs, 1000 * 2 ** n);
    }
  }

  /** Queues, counts and announces what admission came to. */
  private async admitted(
    a: Admitted,
    file: string,
    job: { readyAt: number; stable?: StableFile; front?: boolean },
  ): Promise<void> {
    if (a.kind === 'skipped' || a.kind === 'unfinished') return;
    if (a.kind === 'queued') {
      const next = modelJobOf(a, file, job.readyAt);
      return void (next && this.modelQueue.add(next, job.front ?? false));
    }
    if (a.kind === 'new') {
      // At a start the folder's backlog can store a queued photo's record before the queue reaches it: its
      // answer is written from there, and a second one would race it for the photo's one diagnosis.
      if (job.stable && a.copy && this.catchUp?.holds(a.copy.sha256, file)) return;
      // Shared: another room's sweep may have claimed it first; its answer comes through RemoteChanges.
      if (!(await this.claims.take(a.recordId))) return;
      const { readyAt, stable } = job;
      const next = { imageId: a.recordId, path: file, readyAt, ...(stable ? { stable } : {}), copy: a.copy };
      return this.modelQueue.add(next, job.front ?? false);
    }
    await this.notifier.announceStored(a, file, {
      count: (kind) => void (kind === 'failed' ? this.counts.failed++ : this.counts.duplicates++),
      status: () => this.status(),
      summary: (id) => this.store.summary(id),
    });
  }

  /** An environmental failure (disk full, database locked): shown in the status until the next success. */
  private reportError(path: string, e: EngineError): void {
    this.logger.error(e.message);
    this.ingestError = { code: e.code, message: e.message };
    this.emit({ type: 'failed', path, error: this.ingestError, record: null, status: this.status() });
  }

  // ---- hand uploads and retries ---------------------------------------------------------------------------

  /** Diagnoses an image chosen by hand, ahead of the watched-folder queue. Resolves once done or failed. */
  async ingestUpload(
    bytes: Buffer,
    o: UploadMeta,
  ): Promise<{ id: number; duplicate: boolean } | UploadSavedLocally> {
    if (!this.running) throw new EngineError(ErrorCodes.modelUnavailable, 'The engine is not running.');
    const readyAt = performance.now();
    const diagnose = (a: Admitted) =>
      this.admitted(a, `upload:${o.fileName}`, { readyAt, front: true }).then(() => this.pump());
    const { admit, store, notifier, catchUp } = this;
    return handUpload({ admit, store, notifier, catchUp, diagnose }, bytes, o);
  }

  /** Re-queues a failed record's photo from its stored copy (with every record of that photo). */
  async retry(id: number): Promise<RecordSummary> {
    const row = await this.recorder.reopen(id);
    this.counts.failed = Math.max(0, this.counts.failed - 1);
    if (await this.claims.take(row.id)) this.enqueue(row.id, row.original_path);
    return (await this.store.summary(id))!;
  }

  private enqueue(imageId: number, path: string): void {
    this.modelQueue.add({ imageId, path, readyAt: performance.now() });
    this.pump();
  }
}
