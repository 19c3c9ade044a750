import { createHash } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type {
  Ear,
  EngineEvent,
  EngineStatus,
  ErrorInfo,
  RecordSummary,
  Settings,
} from '../../common/contract.ts';
import { ErrorCodes, MAX_IMAGE_BYTES } from '../../common/contract.ts';
import type { Diagnosis } from '../../model/types.ts';
import {
  EXTENSION_OF,
  IMAGE_EXTENSIONS,
  UNSUPPORTED_EXTENSIONS,
  admissionFailure,
  looksComplete,
  probeImage,
  sniffFormat,
} from '../library/image-probe.ts';
import { ImageLibrary } from '../library/library.ts';
import type { Diagnoser } from '../model/diagnoser.ts';
import { ImageRejectedError } from '../model/diagnoser.ts';
import type { NewSource, RecordStore } from '../store/records.ts';
import { EngineError, toEngineError } from '../util/errors.ts';
import type { Logger } from '../util/logger.ts';
import { silentLogger } from '../util/logger.ts';
import type { ParsedName } from './file-name-pattern.ts';
import type { PatternMatcher } from './pattern-matcher.ts';
import { FolderWatcher } from './folder-watcher.ts';
import { WriteStabilizer, type StableFile } from './stabilizer.ts';

export interface EngineOptions {
  store: RecordStore;
  library: ImageLibrary;
  diagnoser: Diagnoser;
  /** Reads patient, ear and date from file names (in a worker thread, with a time limit). */
  patterns: PatternMatcher;
  settings: Settings;
  /** The data folder: never watched even if it sits inside the watched folder. */
  dataDir: string;
  logger?: Logger;
  /** A file must keep its size and mtime this long before it is read (ms). */
  stabilityMs?: number;
  /** A JPEG/PNG without its end marker is given this long after its last change to be completed (ms). */
  incompleteGraceMs?: number;
  /** Retries of a file whose ingest failed for an environmental reason (disk full, database locked). */
  maxIngestRetries?: number;
}

/** Per-image timings for the benchmark and the log. */
export interface IngestTiming {
  /** Watch event → file judged complete. */
  waitMs: number;
  /** Complete → diagnosis committed and event sent. */
  processMs: number;
  /** Estimated file close (last change) → committed. */
  closedToCommitMs: number;
}

interface ModelJob {
  imageId: number;
  path: string;
  /** When the file was judged complete (performance.now()), for timings. */
  readyAt: number;
  stable?: StableFile;
}

/** One file (watched or uploaded) on its way into the store. */
interface IngestItem {
  fileName: string;
  originalPath: string;
  /** Path relative to the watched folder (what the file-name pattern reads). */
  relative: string;
  source: 'watch' | 'upload';
  mtimeMs: number;
  format: ReturnType<typeof sniffFormat>;
  /** Why it cannot be diagnosed, found before storing anything; nothing is stored then. */
  failure: ErrorInfo | undefined;
  stable?: StableFile;
  readyAt: number;
  patientId?: string | null;
  ear?: Ear;
  /** Ahead of the watched-folder queue (hand uploads). */
  front?: boolean;
}

type Listener = (e: EngineEvent) => void;

interface Waiter {
  resolve: (r: RecordSummary) => void;
  reject: (e: Error) => void;
}

/**
 * The watched-folder engine: watcher → stabilizer → ingest (hash, dedupe, copy into the library, insert a
 * pending record) → model worker → commit. Each stage takes one item at a time in arrival order, so memory
 * stays bounded however large the burst; the queue between ingest and the model holds only record ids.
 */
export class Engine {
  private readonly store: RecordStore;
  private readonly library: ImageLibrary;
  private readonly diagnoser: Diagnoser;
  private readonly logger: Logger;
  private settings: Settings;
  private readonly patterns: PatternMatcher;
  private readonly stabilityMs: number;
  private readonly incompleteGraceMs: number;
  private readonly maxIngestRetries: number;

  private watcher: FolderWatcher | null = null;
  private readonly stabilizer: WriteStabilizer;
  private readonly readyQueue: StableFile[] = [];
  private readonly modelQueue: ModelJob[] = [];
  private readonly queuedIds = new Set<number>();
  private readonly retries = new Map<string, number>();
  private readonly waiters = new Map<number, Waiter[]>();
  private readonly listeners = new Set<Listener>();
  private ingesting = false;
  private processingJob: ModelJob | null = null;
  private running = false;
  private state: EngineStatus['state'] = 'stopped';
  private watching = false;
  private lastError: ErrorInfo | null = null;
  private watchRetryTimer: NodeJS.Timeout | null = null;
  private noticedTimer: NodeJS.Timeout | null = null;
  private counts = { done: 0, failed: 0, duplicates: 0 };
  private avgMs: number | null = null;
  private idleWaiters: (() => void)[] = [];
  /** Timings of recent images (for the benchmark); bounded. */
  readonly timings: IngestTiming[] = [];

  constructor(opts: EngineOptions) {
    this.store = opts.store;
    this.library = opts.library;
    this.diagnoser = opts.diagnoser;
    this.logger = opts.logger ?? silentLogger;
    this.settings = opts.settings;
    this.patterns = opts.patterns;
    this.stabilityMs = opts.stabilityMs ?? 200;
    this.incompleteGraceMs = opts.incompleteGraceMs ?? 4000;
    this.maxIngestRetries = opts.maxIngestRetries ?? 3;
    this.dataDir = opts.dataDir;
    this.stabilizer = new WriteStabilizer((f) => this.onStable(f), this.stabilityMs);
  }

  private readonly dataDir: string;

  // ---- lifecycle ------------------------------------------------------------------------------------------

  async start(): Promise<void> {
    this.state = 'starting';
    this.running = true;
    // Records left pending by a crash or a stop: their copies are in the library; diagnose them first.
    for (const row of this.store.pendingImages()) {
      this.enqueueModel({ imageId: row.id, path: row.original_path, readyAt: performance.now() });
    }
    await this.startWatcher();
    this.state = 'running';
    this.emitStatus();
    this.pump();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.watchRetryTimer) clearTimeout(this.watchRetryTimer);
    this.watchRetryTimer = null;
    if (this.noticedTimer) clearTimeout(this.noticedTimer);
    this.noticedTimer = null;
    await this.stopWatcher();
    this.stabilizer.close();
    // Let the image being diagnosed finish and commit; queued ones stay pending for the next start.
    // A hung model must not keep the app from quitting: its record stays pending and resumes at next start.
    const deadline = Date.now() + 30_000;
    while ((this.processingJob || this.ingesting) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    this.readyQueue.length = 0;
    this.modelQueue.length = 0;
    this.queuedIds.clear();
    for (const [, ws] of this.waiters)
      for (const w of ws) w.reject(new EngineError(ErrorCodes.cancelled, 'The engine stopped.'));
    this.waiters.clear();
    this.state = 'stopped';
    this.emitStatus();
  }

  /** Applies new settings; restarts the watcher when folder options changed. */
  async applySettings(next: Settings): Promise<void> {
    const prev = this.settings;
    this.settings = next;
    const folderChanged =
      prev.watchDir !== next.watchDir ||
      prev.recursive !== next.recursive ||
      prev.usePolling !== next.usePolling ||
      prev.pollIntervalMs !== next.pollIntervalMs;
    if (folderChanged && this.running) {
      await this.stopWatcher();
      await this.startWatcher();
    }
    this.emit({ type: 'settings', settings: next });
    this.emitStatus();
  }

  private async startWatcher(): Promise<void> {
    if (this.watchRetryTimer) clearTimeout(this.watchRetryTimer);
    this.watchRetryTimer = null;
    if (!this.running || this.watcher) return;
    const dir = this.settings.watchDir;
    if (!dir) {
      this.watching = false;
      return;
    }
    let ok = false;
    try {
      ok = statSync(dir).isDirectory();
    } catch {
      ok = false;
    }
    if (!ok) {
      // A network share may be offline or a USB disk unplugged: say so and look again shortly.
      this.setError({
        code: 'watch_dir_missing',
        message: `The watched folder ${dir} does not exist or is not a folder.`,
      });
      this.watching = false;
      if (this.running) this.watchRetryTimer = setTimeout(() => void this.startWatcher(), 2000);
      return;
    }
    const watcher = new FolderWatcher({
      dir,
      recursive: this.settings.recursive,
      usePolling: this.settings.usePolling,
      pollIntervalMs: this.settings.pollIntervalMs,
      excludeDirs: [this.dataDir],
      onFile: (file, s) => {
        this.stabilizer.touch(file, s?.size ?? -1, s?.mtimeMs ?? -1);
        this.announceNoticed();
      },
      onError: (err) => {
        this.logger.warn(`watcher: ${err.message}`);
        this.setError({ code: ErrorCodes.ioError, message: `Watching ${dir} failed: ${err.message}` });
      },
    });
    this.watcher = watcher;
    await watcher.start();
    this.watching = true;
    if (this.lastError?.code === 'watch_dir_missing') this.lastError = null;
    this.logger.info(
      `watching ${dir}${this.settings.recursive ? ' (recursive)' : ''}${this.settings.usePolling ? ' (polling)' : ''}`,
    );
    this.emitStatus();
  }

  private async stopWatcher(): Promise<void> {
    if (this.watchRetryTimer) clearTimeout(this.watchRetryTimer);
    this.watchRetryTimer = null;
    const w = this.watcher;
    this.watcher = null;
    this.watching = false;
    if (w) await w.close();
  }

  // ---- events & status ------------------------------------------------------------------------------------

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: EngineEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        this.logger.warn(`event listener failed: ${(err as Error).message}`);
      }
    }
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

  private setError(e: ErrorInfo | null): void {
    this.lastError = e;
  }

  status(): EngineStatus {
    const queued =
      this.stabilizer.size + this.readyQueue.length + this.modelQueue.length + (this.ingesting ? 1 : 0);
    const processing = this.processingJob ? 1 : 0;
    return {
      state: this.state,
      watching: this.watching,
      error: this.lastError,
      queued,
      processing,
      done: this.counts.done,
      failed: this.counts.failed,
      duplicates: this.counts.duplicates,
      etaMs:
        queued + processing > 0 && this.avgMs !== null
          ? Math.round((queued + processing) * this.avgMs)
          : null,
      avgProcessMs: this.avgMs === null ? null : Math.round(this.avgMs * 10) / 10,
    };
  }

  /** Resolves when nothing is waiting, being ingested or diagnosed. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private isIdle(): boolean {
    return (
      this.stabilizer.size === 0 &&
      this.readyQueue.length === 0 &&
      this.modelQueue.length === 0 &&
      !this.ingesting &&
      !this.processingJob
    );
  }

  private checkIdle(): void {
    if (!this.isIdle()) return;
    const ws = this.idleWaiters;
    this.idleWaiters = [];
    ws.forEach((w) => w());
  }

  // ---- pipeline -------------------------------------------------------------------------------------------

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
      void this.ingestFile(f).finally(() => {
        this.ingesting = false;
        this.pump();
      });
    }
    if (!this.processingJob && this.modelQueue.length > 0) {
      const job = this.modelQueue.shift()!;
      this.queuedIds.delete(job.imageId);
      this.processingJob = job;
      void this.runModel(job).finally(() => {
        this.processingJob = null;
        this.pump();
        // 'done' carries the status from before its image left the stage; when nothing follows it, say idle.
        if (!this.processingJob) this.emitStatus();
      });
    }
    this.checkIdle();
  }

  private enqueueModel(job: ModelJob, front = false): void {
    if (this.queuedIds.has(job.imageId) || this.processingJob?.imageId === job.imageId) return;
    this.queuedIds.add(job.imageId);
    if (front) this.modelQueue.unshift(job);
    else this.modelQueue.push(job);
  }

  /** Reads, dedupes and stores one stable file; on success its record is pending in the model queue. */
  private async ingestFile(f: StableFile): Promise<void> {
    const readyAt = performance.now();
    const ext = path.extname(f.path).toLowerCase();
    try {
      if (this.store.knownSource(f.path, f.size, f.mtimeMs) !== null) return;
      const namedLikeImage = IMAGE_EXTENSIONS.has(ext) || UNSUPPORTED_EXTENSIONS.has(ext);
      if (f.size > MAX_IMAGE_BYTES) {
        // Only what is named like an image, or starts like one: a large video or archive is not ours.
        if (namedLikeImage || (await this.startsLikeImage(f.path))) await this.recordTooLarge(f);
        return;
      }
      let bytes: Buffer;
      try {
        bytes = await readFile(f.path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // moved away before we got to it
        throw err;
      }
      const format = sniffFormat(bytes.subarray(0, 32));
      if (!namedLikeImage && format === null) return; // not an image and not named like one: not ours
      if (
        format !== null &&
        !looksComplete(bytes, format) &&
        Date.now() - f.mtimeMs < this.incompleteGraceMs
      ) {
        // Still being written with pauses longer than the stability window: look again later.
        this.stabilizer.touch(f.path, f.size, f.mtimeMs, this.stabilityMs);
        return;
      }
      await this.storeAndQueue(bytes, {
        fileName: path.basename(f.path),
        originalPath: f.path,
        relative: this.relativeToWatch(f.path),
        source: 'watch',
        mtimeMs: f.mtimeMs,
        format,
        failure: admissionFailure(bytes, ext, format, 'watch') ?? undefined,
        stable: f,
        readyAt,
      });
      this.retries.delete(f.path);
      if (this.lastError && this.lastError.code !== 'watch_dir_missing') this.setError(null);
    } catch (err) {
      const e = toEngineError(err, `Ingesting ${f.path}`);
      this.logger.error(e.message);
      this.setError({ code: e.code, message: e.message });
      this.emit({
        type: 'failed',
        path: f.path,
        error: { code: e.code, message: e.message },
        record: null,
        status: this.status(),
      });
      // Disk full, locked database...: nothing was half-written; try the file again a little later.
      const n = (this.retries.get(f.path) ?? 0) + 1;
      this.retries.set(f.path, n);
      if (n <= this.maxIngestRetries && this.running)
        this.stabilizer.touch(f.path, f.size, f.mtimeMs, 1000 * 2 ** n);
    }
  }

  private async startsLikeImage(file: string): Promise<boolean> {
    const fh = await open(file, 'r');
    try {
      const head = Buffer.alloc(32);
      const { bytesRead } = await fh.read(head, 0, 32, 0);
      return sniffFormat(head.subarray(0, bytesRead)) !== null;
    } finally {
      await fh.close();
    }
  }

  /** Patient, ear and date from the name; a pattern that fails or runs out of time reads as no match. */
  private async parseName(relative: string): Promise<ParsedName> {
    try {
      return await this.patterns.parse(this.settings.fileNamePattern, relative);
    } catch (err) {
      this.logger.warn(`file-name pattern on ${relative}: ${(err as Error).message}`);
      return { matched: false, patientId: null, ear: 'unknown', capturedAt: null };
    }
  }

  private relativeToWatch(file: string): string {
    const dir = this.settings.watchDir;
    if (!dir) return path.basename(file);
    const rel = path.relative(dir, file);
    return rel.startsWith('..') || path.isAbsolute(rel) ? path.basename(file) : rel;
  }

  /** Hashes a file too large to accept without reading it into memory, and records the failure. */
  private async recordTooLarge(f: StableFile): Promise<void> {
    const hash = createHash('sha256');
    await new Promise<void>((resolve, reject) => {
      createReadStream(f.path)
        .on('data', (c) => hash.update(c))
        .on('end', () => resolve())
        .on('error', reject);
    });
    const sha256 = hash.digest('hex');
    const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
    const failure = {
      code: 'image.too_large',
      message: `The file is ${mb(f.size)}; images up to ${mb(MAX_IMAGE_BYTES)} are accepted.`,
    };
    const parsed = await this.parseName(this.relativeToWatch(f.path));
    const { id } = this.store.insertImage({
      sha256,
      fileName: path.basename(f.path),
      originalPath: f.path,
      source: 'watch',
      storedPath: null,
      thumbPath: null,
      sizeBytes: f.size,
      width: null,
      height: null,
      format: null,
      capturedAt: parsed.capturedAt ?? new Date(f.mtimeMs).toISOString(),
      captureSource: parsed.capturedAt ? 'name' : 'mtime',
      patientId: parsed.patientId,
      ear: parsed.ear,
      patientSource: parsed.matched ? 'pattern' : 'none',
      sourceFile: { path: f.path, size: f.size, mtimeMs: f.mtimeMs },
      failure,
    });
    this.finishFailed(id, f.path, failure);
  }

  private finishFailed(id: number, file: string, failure: ErrorInfo): void {
    this.counts.failed++;
    const record = this.store.summary(id);
    this.logger.info(`failed ${path.basename(file)}: ${failure.message}`);
    this.emit({ type: 'failed', path: file, error: failure, record, status: this.status() });
    this.settle(id, record);
  }

  /**
   * Patient, ear and capture time of one file that brought a photo: from the name (pattern) or the upload's
   * fields; the time from EXIF, else a dated name, else the file's mtime.
   */
  private async describeSource(
    o: IngestItem,
    exifTakenAt: string | null,
  ): Promise<Omit<NewSource, 'fileName' | 'originalPath' | 'source' | 'sourceFile'>> {
    const offset = -new Date().getTimezoneOffset();
    const parsed = await this.parseName(o.relative);
    // A name with only a date gives local midnight; the file's mtime on that same day is more precise.
    let fromName = parsed.capturedAt;
    if (fromName) {
      const start = Date.parse(fromName);
      const localMidnight = (start + offset * 60_000) % 86_400_000 === 0;
      if (localMidnight && o.mtimeMs >= start && o.mtimeMs < start + 86_400_000) fromName = null;
    }
    const capturedAt =
      o.source === 'upload'
        ? (exifTakenAt ?? new Date().toISOString())
        : (exifTakenAt ?? fromName ?? new Date(o.mtimeMs).toISOString());
    const captureSource = exifTakenAt
      ? 'exif'
      : o.source === 'upload'
        ? 'upload'
        : fromName
          ? 'name'
          : 'mtime';
    const manual = o.patientId !== undefined || o.ear !== undefined;
    return {
      capturedAt,
      captureSource,
      patientId: manual ? (o.patientId ?? null) : parsed.patientId,
      ear: manual ? (o.ear ?? 'unknown') : parsed.ear,
      patientSource: manual ? 'upload' : parsed.matched ? 'pattern' : 'none',
    };
  }

  /**
   * Shared by watched files and uploads. A new photo is copied into the library and queued for the model;
   * the same bytes under another name become another record of that photo (one diagnosis, several
   * sources); a file that fails before that (empty, not an image, unsupported format) gets a record of its
   * own with the reason and nothing stored. Returns the record id, and whether the photo was known.
   */
  private async storeAndQueue(bytes: Buffer, o: IngestItem): Promise<{ id: number; duplicate: boolean }> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const sourceFile = o.stable
      ? { path: o.stable.path, size: o.stable.size, mtimeMs: o.stable.mtimeMs }
      : undefined;
    if (!o.failure) {
      const existing = this.store.findBySha(sha256);
      if (existing) return this.addSourceOfPhoto(existing.id, sha256, bytes, o);
    }
    let storedPath: string | null = null;
    let thumbPath: string | null = null;
    if (!o.failure) {
      storedPath = ImageLibrary.originalPath(sha256, o.format ? EXTENSION_OF[o.format] : '.bin');
      await this.library.put(storedPath, bytes);
      const thumb = await this.library.makeThumbnail(bytes);
      if (thumb) {
        thumbPath = ImageLibrary.thumbPath(sha256);
        await this.library.put(thumbPath, thumb);
      }
    }
    const facts = o.failure
      ? { width: null, height: null, exifTakenAt: null }
      : await probeImage(bytes, o.format, -new Date().getTimezoneOffset());
    const src = await this.describeSource(o, facts.exifTakenAt);
    const { id, created } = this.store.insertImage({
      sha256,
      fileName: o.fileName,
      originalPath: o.originalPath,
      source: o.source,
      storedPath,
      thumbPath,
      sizeBytes: bytes.length,
      width: facts.width,
      height: facts.height,
      format: o.format,
      ...src,
      ...(sourceFile ? { sourceFile } : {}),
      ...(o.failure ? { failure: o.failure } : {}),
    });
    // The same bytes were stored meanwhile (an upload beside the watcher): this file is another source.
    if (!created) return this.addSourceOfPhoto(id, sha256, bytes, o);
    if (o.failure) {
      this.finishFailed(id, o.originalPath, o.failure);
      return { id, duplicate: false };
    }
    this.enqueueModel(
      { imageId: id, path: o.originalPath, readyAt: o.readyAt, ...(o.stable ? { stable: o.stable } : {}) },
      o.front ?? false,
    );
    return { id, duplicate: false };
  }

  /** A photo already stored, brought again: the same file, a renamed one, or another source of it. */
  private async addSourceOfPhoto(
    primaryId: number,
    sha256: string,
    bytes: Buffer,
    o: IngestItem,
  ): Promise<{ id: number; duplicate: boolean }> {
    this.counts.duplicates++;
    const seen = (id: number) => {
      this.emit({ type: 'duplicate', path: o.originalPath, recordId: id, status: this.status() });
      return { id, duplicate: true };
    };
    const records = this.store.photoRecords(primaryId);
    const f = o.stable;
    if (f) {
      // The same file again (re-saved, touched): remember its new size and mtime, nothing more.
      const same = records.find((r) => r.source === 'watch' && r.original_path === f.path);
      if (same) {
        this.store.rememberSource(f.path, f.size, f.mtimeMs, same.id);
        return seen(same.id);
      }
      // Renamed or moved: a file with these bytes, size and mtime that is no longer where it was.
      const moved = this.store
        .sourcesWithSameFile(sha256, f.size, f.mtimeMs)
        .find((c) => c.path !== f.path && !existsSync(c.path));
      if (moved) {
        const parsed = await this.parseName(o.relative);
        this.store.moveSource(moved.recordId, moved.path, { ...f, fileName: o.fileName }, parsed);
        this.logger.info(`moved ${path.basename(moved.path)} → ${o.fileName} (record ${moved.recordId})`);
        const result = seen(moved.recordId);
        this.recordUpdated(moved.recordId);
        return result;
      }
    }
    const facts = await probeImage(bytes, o.format, -new Date().getTimezoneOffset());
    const src = await this.describeSource(o, facts.exifTakenAt);
    if (o.source === 'upload') {
      const again = records.find(
        (r) =>
          r.source === 'upload' &&
          r.file_name === o.fileName &&
          r.patient_id === src.patientId &&
          r.ear === src.ear,
      );
      if (again) return seen(again.id);
    }
    const id = this.store.addSource(primaryId, {
      fileName: o.fileName,
      originalPath: o.originalPath,
      source: o.source,
      ...src,
      ...(f ? { sourceFile: { path: f.path, size: f.size, mtimeMs: f.mtimeMs } } : {}),
    });
    this.logger.info(`duplicate ${o.fileName}: the photo of record ${primaryId}, kept as record ${id}`);
    const result = seen(id);
    // A new row for the board at once when the photo's answer is known; otherwise when it is.
    const record = this.store.summary(id)!;
    if (record.status === 'done') this.emit({ type: 'done', record, status: this.status() });
    else if (record.status === 'failed' && record.failure)
      this.emit({
        type: 'failed',
        path: o.originalPath,
        error: record.failure,
        record,
        status: this.status(),
      });
    return result;
  }

  private async runModel(job: ModelJob): Promise<void> {
    const row = this.store.row(job.imageId);
    if (!row || row.status !== 'pending') return;
    this.emit({ type: 'processing', path: job.path, recordId: job.imageId, status: this.status() });
    const t0 = performance.now();
    const abs = row.stored_path ? await this.library.resolve(row.stored_path) : null;
    if (!abs) {
      this.failRecord(job.imageId, job.path, {
        code: ErrorCodes.notFound,
        message: 'The stored copy of this image is missing from the image library.',
      });
      return;
    }
    let diagnosis: Diagnosis | null = null;
    let failure: ErrorInfo | null = null;
    for (let attempt = 1; attempt <= 2 && !diagnosis && !failure; attempt++) {
      try {
        const bytes = await readFile(abs);
        diagnosis = await this.diagnoser.diagnose(bytes);
      } catch (err) {
        if (err instanceof ImageRejectedError) {
          failure = { code: `image.${err.reason}`, message: capitalize(err.message) };
        } else if (attempt === 2 || !this.running) {
          const e = toEngineError(err, 'Diagnosing');
          failure = { code: e.code, message: e.message };
        }
        // else: a crashed worker is restarted once before the image is given up on.
      }
    }
    try {
      if (failure || !diagnosis) {
        this.failRecord(
          job.imageId,
          job.path,
          failure ?? { code: ErrorCodes.internal, message: 'No diagnosis.' },
        );
      } else {
        let overlayPath: string | null = null;
        if (diagnosis.heatmap) {
          overlayPath = ImageLibrary.overlayPath(row.sha256, diagnosis.model.id, diagnosis.model.version);
          await this.library.put(overlayPath, diagnosis.heatmap.overlayPng);
        }
        this.store.commitDiagnosis(job.imageId, diagnosis, overlayPath);
        this.counts.done++;
        const record = this.store.summary(job.imageId)!;
        this.logger.info(
          `done ${row.file_name}: ${diagnosis.gate}${diagnosis.label ? ` ${diagnosis.label} ${(record.confidence! * 100).toFixed(0)}%` : ''}` +
            `${diagnosis.gateReason ? ` (${diagnosis.gateReason})` : ''} [${diagnosis.timings.totalMs} ms]`,
        );
        this.emit({ type: 'done', record, status: this.status() });
        this.settle(job.imageId, record);
        this.settleOtherSources(job.imageId);
      }
      this.trackTiming(job, t0);
    } catch (err) {
      // The commit itself failed (disk full, database locked): the record stays pending and is retried at
      // the next start; the overlay, if written, is a complete file that will simply be reused.
      const e = toEngineError(err, `Saving the diagnosis of ${row.file_name}`);
      this.logger.error(e.message);
      this.setError({ code: e.code, message: e.message });
      this.emit({
        type: 'failed',
        path: job.path,
        error: { code: e.code, message: e.message },
        record: null,
        status: this.status(),
      });
      this.rejectWaiters(job.imageId, e);
    }
  }

  private trackTiming(job: ModelJob, t0: number): void {
    const end = performance.now();
    const processMs = end - job.readyAt;
    this.avgMs = this.avgMs === null ? end - t0 : this.avgMs * 0.8 + (end - t0) * 0.2;
    if (job.stable) {
      const nowWall = Date.now();
      this.timings.push({
        waitMs: nowWall - processMs - job.stable.firstSeen,
        processMs,
        closedToCommitMs: nowWall - job.stable.changedAt,
      });
      if (this.timings.length > 20_000) this.timings.splice(0, 10_000);
    }
  }

  private failRecord(id: number, file: string, failure: ErrorInfo): void {
    this.store.markFailed(id, failure);
    this.counts.failed++;
    const record = this.store.summary(id);
    this.logger.info(`failed ${path.basename(file)}: ${failure.message}`);
    this.emit({ type: 'failed', path: file, error: failure, record, status: this.status() });
    this.settle(id, record);
    this.settleOtherSources(id);
  }

  /** The photo's other records (sources added while it waited for the model) now show its answer too. */
  private settleOtherSources(primaryId: number): void {
    for (const r of this.store.photoRecords(primaryId)) {
      if (r.id === primaryId) continue;
      this.recordUpdated(r.id);
      this.settle(r.id, this.store.summary(r.id));
    }
  }

  private settle(id: number, record: RecordSummary | null): void {
    const ws = this.waiters.get(id);
    if (!ws) return;
    this.waiters.delete(id);
    for (const w of ws) {
      if (record) w.resolve(record);
      else w.reject(new EngineError(ErrorCodes.notFound, `Record ${id} vanished.`));
    }
  }

  private rejectWaiters(id: number, err: Error): void {
    const ws = this.waiters.get(id);
    this.waiters.delete(id);
    ws?.forEach((w) => w.reject(err));
  }

  private waitFor(id: number): Promise<RecordSummary> {
    return new Promise((resolve, reject) => {
      const list = this.waiters.get(id) ?? [];
      list.push({ resolve, reject });
      this.waiters.set(id, list);
    });
  }

  // ---- hand uploads and retries ---------------------------------------------------------------------------

  /** Diagnoses an image chosen by hand, ahead of the watched-folder queue. Resolves once done or failed. */
  async ingestUpload(
    bytes: Buffer,
    o: { fileName: string; patientId?: string | null; ear?: Ear },
  ): Promise<{ id: number; duplicate: boolean }> {
    if (bytes.length > MAX_IMAGE_BYTES) {
      throw new EngineError(
        ErrorCodes.tooLarge,
        `The image is ${(bytes.length / 1048576).toFixed(1)} MB; images up to ${MAX_IMAGE_BYTES / 1048576} MB are accepted.`,
      );
    }
    if (!this.running) throw new EngineError(ErrorCodes.modelUnavailable, 'The engine is not running.');
    const format = sniffFormat(bytes.subarray(0, 32));
    // A file that is no image this app reads is refused with the reason, and nothing of it is kept.
    const failure = admissionFailure(bytes, '', format, 'upload');
    if (failure) throw new EngineError(failure.code, failure.message);
    const fileName = path.basename(o.fileName.replace(/\\/g, '/')) || 'upload';
    const r = await this.storeAndQueue(bytes, {
      fileName,
      originalPath: `upload:${fileName}`,
      relative: fileName,
      source: 'upload',
      mtimeMs: Date.now(),
      format,
      failure: undefined,
      readyAt: performance.now(),
      ...(o.patientId !== undefined ? { patientId: o.patientId } : {}),
      ...(o.ear !== undefined ? { ear: o.ear } : {}),
      front: true,
    });
    const row = this.store.row(r.id);
    if (row?.status === 'pending') {
      const done = this.waitFor(r.id);
      this.pump();
      await done;
    }
    return r;
  }

  /** Re-queues a failed record's photo from its stored copy (with every record of that photo). */
  retry(id: number): RecordSummary {
    const asked = this.store.row(id);
    if (!asked) throw new EngineError(ErrorCodes.notFound, `There is no record ${id}.`);
    const row = asked.primary_id === null ? asked : this.store.row(asked.primary_id);
    if (!row) throw new EngineError(ErrorCodes.notFound, `There is no record ${asked.primary_id}.`);
    if (row.status !== 'failed')
      throw new EngineError(ErrorCodes.invalidArgs, `Record ${id} has not failed.`);
    if (!row.stored_path) {
      throw new EngineError(
        ErrorCodes.unsupported,
        `Record ${id} has no stored copy to diagnose (${row.failure_message ?? 'failed'}).`,
      );
    }
    this.store.markPending(row.id);
    this.counts.failed = Math.max(0, this.counts.failed - 1);
    this.enqueueModel({ imageId: row.id, path: row.original_path, readyAt: performance.now() });
    this.pump();
    return this.store.summary(id)!;
  }

  /** Announces a record changed after the fact (review, patient edit). */
  recordUpdated(id: number): void {
    const record = this.store.summary(id);
    if (record) this.emit({ type: 'record.updated', record });
  }

  get currentSettings(): Settings {
    return this.settings;
  }
}

function capitalize(s: string): string {
  const t = s.charAt(0).toUpperCase() + s.slice(1);
  return /[.!?]$/.test(t) ? t : `${t}.`;
}
