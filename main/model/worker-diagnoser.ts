import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ErrorCodes } from '../../common/contract.ts';
import type { Diagnosis } from '../../model/types.ts';
import { EngineError } from '../util/errors.ts';
import type { AdaptHandle, Diagnoser, ModelCardSummary } from './diagnoser.ts';
import { AdaptFailure, ImageRejectedError } from './diagnoser.ts';
import type {
  AdaptProgressMessage,
  AdaptRequest,
  AdaptResult,
  FromWorker,
  ToWorker,
  WorkerInit,
} from './worker-protocol.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');

export interface WorkerDiagnoserOptions {
  modelDir: string;
  backend?: 'auto' | 'wasm' | 'cpu';
  /** Module exporting `EardrumClassifier`; defaults to the real one in model/classifier.ts. */
  classifierModule?: string;
  /** Module exporting `adaptModel`; defaults to model/adapt/adapt.ts. */
  adaptModule?: string;
  eardrumThreshold?: number;
  /** How long loading the model may take before giving up (ms). */
  loadTimeoutMs?: number;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

function workerEntry(): URL {
  // Built output (.js) runs as is; sources go through a small bootstrap that registers tsx in the worker.
  if (!import.meta.url.endsWith('.ts')) return pathToFileURL(path.join(here, 'diagnose-worker.js'));
  return pathToFileURL(path.join(here, 'diagnose-worker-boot.mjs'));
}

/**
 * The classifier in a worker thread. One image at a time goes to the worker; if the worker dies, the image in
 * flight fails with a clear error and the next call starts a fresh worker.
 */
export class WorkerDiagnoser implements Diagnoser {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;
  private threshold: number | undefined;
  private readonly progress = new Map<number, (p: AdaptProgressMessage) => void>();

  private constructor(
    private opts: Required<Omit<WorkerDiagnoserOptions, 'eardrumThreshold'>>,
    public card: ModelCardSummary,
    public backend: string,
  ) {}

  static async start(options: WorkerDiagnoserOptions): Promise<WorkerDiagnoser> {
    const opts = {
      modelDir: options.modelDir,
      backend: options.backend ?? 'auto',
      classifierModule: options.classifierModule ?? path.join(repoRoot, 'model', 'classifier.ts'),
      adaptModule: options.adaptModule ?? path.join(repoRoot, 'model', 'adapt', 'adapt.ts'),
      loadTimeoutMs: options.loadTimeoutMs ?? 120_000,
    };
    const d = new WorkerDiagnoser(opts, { id: '', version: '', labels: [], thresholds: {}, details: {} }, '');
    d.threshold = options.eardrumThreshold;
    await d.spawn();
    return d;
  }

  private spawn(): Promise<void> {
    const url = workerEntry();
    const init: WorkerInit = {
      modelDir: this.opts.modelDir,
      backend: this.opts.backend,
      classifierModule: this.opts.classifierModule,
      adaptModule: this.opts.adaptModule,
      ...(this.threshold !== undefined ? { eardrumThreshold: this.threshold } : {}),
    };
    const worker = new Worker(url, { workerData: init });
    this.worker = worker;
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      const timer = setTimeout(() => {
        if (ready) return;
        void worker.terminate();
        reject(
          new EngineError(
            ErrorCodes.modelUnavailable,
            `The model did not load within ${this.opts.loadTimeoutMs} ms.`,
          ),
        );
      }, this.opts.loadTimeoutMs);
      worker.on('message', (msg: FromWorker) => {
        switch (msg.type) {
          case 'ready':
            ready = true;
            clearTimeout(timer);
            this.card = msg.card;
            this.backend = msg.backend;
            resolve();
            return;
          case 'load_error':
            clearTimeout(timer);
            void worker.terminate();
            reject(
              new EngineError(
                ErrorCodes.modelUnavailable,
                `The model in ${this.opts.modelDir} cannot be loaded: ${msg.message}`,
              ),
            );
            return;
          case 'result': {
            const p = this.take(msg.id);
            const d = msg.diagnosis;
            if (d.heatmap) d.heatmap.overlayPng = Buffer.from(d.heatmap.overlayPng);
            p?.resolve(d);
            return;
          }
          case 'ack':
            this.take(msg.id)?.resolve(undefined);
            return;
          case 'loaded':
            this.card = msg.card;
            this.backend = msg.backend;
            this.take(msg.id)?.resolve(undefined);
            return;
          case 'adapt_progress':
            this.progress.get(msg.id)?.({ phase: msg.phase, done: msg.done, total: msg.total });
            return;
          case 'adapt_done':
            this.progress.delete(msg.id);
            this.take(msg.id)?.resolve(msg.result);
            return;
          case 'adapt_error':
            this.progress.delete(msg.id);
            this.take(msg.id)?.reject(new AdaptFailure(msg.code, msg.problems));
            return;
          case 'error':
            this.take(msg.id)?.reject(
              msg.rejected
                ? new ImageRejectedError(msg.code, msg.message)
                : msg.code === 'model_unavailable'
                  ? new EngineError(ErrorCodes.modelUnavailable, msg.message)
                  : new EngineError(
                      msg.code === 'invalid_args' ? ErrorCodes.invalidArgs : ErrorCodes.internal,
                      `The model failed: ${msg.message}`,
                    ),
            );
            return;
        }
      });
      worker.on('error', (err) => {
        clearTimeout(timer);
        if (!ready)
          reject(
            new EngineError(ErrorCodes.modelUnavailable, `The model worker failed to start: ${err.message}`),
          );
        this.failAll(`The model worker crashed: ${err.message}`);
      });
      worker.on('exit', (code) => {
        clearTimeout(timer);
        if (this.worker === worker) this.worker = null;
        if (!ready)
          reject(
            new EngineError(
              ErrorCodes.modelUnavailable,
              `The model worker exited (code ${code}) while loading.`,
            ),
          );
        this.failAll(`The model worker stopped (exit code ${code}).`);
      });
    });
  }

  private take(id: number): Pending | undefined {
    const p = this.pending.get(id);
    this.pending.delete(id);
    return p;
  }

  private failAll(message: string): void {
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.reject(
        this.progress.delete(id)
          ? new AdaptFailure('internal', [message])
          : new EngineError(ErrorCodes.internal, message),
      );
    }
  }

  private async call<T>(msg: ToWorker, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.closed) throw new EngineError(ErrorCodes.modelUnavailable, 'The model has been shut down.');
    if (!this.worker) await this.spawn();
    return new Promise<T>((resolve, reject) => {
      this.pending.set(msg.id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker!.postMessage(msg, transfer);
    });
  }

  diagnose(bytes: Buffer): Promise<Diagnosis> {
    // A private copy whose memory moves to the worker without cloning.
    const copy = new Uint8Array(bytes.byteLength);
    copy.set(bytes);
    return this.call<Diagnosis>({ type: 'diagnose', id: this.nextId++, bytes: copy }, [copy.buffer]);
  }

  async setEardrumThreshold(value: number): Promise<void> {
    this.threshold = value;
    await this.call<void>({ type: 'threshold', id: this.nextId++, value });
  }

  get modelDir(): string {
    return this.opts.modelDir;
  }

  /** Loads another model in the worker; images sent before are diagnosed with the previous one. */
  async useModel(modelDir: string): Promise<void> {
    await this.call<void>({ type: 'load', id: this.nextId++, modelDir });
    this.opts.modelDir = modelDir; // a restarted worker loads this one
  }

  adapt(request: AdaptRequest, onProgress: (p: AdaptProgressMessage) => void): AdaptHandle {
    const id = this.nextId++;
    this.progress.set(id, onProgress);
    const done = this.call<AdaptResult>({ type: 'adapt', id, request });
    return {
      done,
      cancel: () => {
        if (this.worker && this.progress.has(id))
          void this.call<void>({ type: 'adapt_cancel', id: this.nextId++, job: id }).catch(() => undefined);
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
    this.failAll('The model has been shut down.');
  }
}
