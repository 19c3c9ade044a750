import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { PatternPreview } from '../../common/contract.ts';
import { ErrorCodes } from '../../common/contract.ts';
import { EngineError } from '../util/errors.ts';
import type { ParsedName } from './file-name-pattern.ts';
import type { FromPatternWorker, ToPatternWorker } from './pattern-protocol.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Reads patient, ear and date from file names with the configured pattern, away from the event loop. */
export interface PatternMatcher {
  parse(pattern: string, relativePath: string): Promise<ParsedName>;
  preview(pattern: string, sample: string): Promise<PatternPreview>;
  /** Resolves when the pattern compiles; rejects with `invalid_args` and the reason otherwise. */
  check(pattern: string): Promise<void>;
  close(): Promise<void>;
}

export interface WorkerPatternMatcherOptions {
  /** How long one pattern may work on one name before the worker is stopped (ms). */
  timeoutMs?: number;
  /** Minutes east of UTC for dates in names; default the machine's zone at the time of each call. */
  utcOffsetMinutes?: () => number;
}

/** A pattern that ran past its time limit (its worker was stopped). */
class PatternTimeout extends EngineError {}

type Request = { msg: ToPatternWorker; resolve: (v: FromPatternWorker) => void; reject: (e: Error) => void };

function workerEntry(): URL {
  if (!import.meta.url.endsWith('.ts')) return pathToFileURL(path.join(here, 'pattern-worker.js'));
  return pathToFileURL(path.join(here, 'pattern-worker-boot.mjs'));
}

/**
 * The pattern engine (RE2, linear in the name's length) runs in its own worker thread with a time limit per
 * name: whatever pattern is saved, the engine's event loop, the API and the UI never wait on it. A request
 * over the limit stops the worker (its answer is an error); requests queued behind it go to a fresh one.
 */
export class WorkerPatternMatcher implements PatternMatcher {
  private worker: Worker | null = null;
  /** Requests are timed from when the worker is up (starting one takes a while on a busy machine). */
  private ready = false;
  private nextId = 1;
  private readonly pending = new Map<number, Request & { timer: NodeJS.Timeout | null }>();
  private closed = false;
  private readonly timeoutMs: number;
  private readonly offset: () => number;

  constructor(opts: WorkerPatternMatcherOptions = {}) {
    // RE2 takes milliseconds on any name a folder can hold; the limit is for a stuck worker, and is generous
    // because a busy machine (a training run beside the app) can starve a thread for a second or two.
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.offset = opts.utcOffsetMinutes ?? (() => -new Date().getTimezoneOffset());
  }

  async parse(pattern: string, relativePath: string): Promise<ParsedName> {
    try {
      return await this.parseOnce(pattern, relativePath);
    } catch (err) {
      // Once more on the fresh worker: a starved thread should not cost a file its patient id.
      if (!(err instanceof PatternTimeout)) throw err;
      return this.parseOnce(pattern, relativePath);
    }
  }

  private async parseOnce(pattern: string, relativePath: string): Promise<ParsedName> {
    const r = await this.request({
      type: 'parse',
      id: 0,
      pattern,
      path: relativePath,
      utcOffsetMinutes: this.offset(),
    });
    if (r.type !== 'parsed')
      throw new EngineError(ErrorCodes.internal, 'Unexpected answer from the pattern worker.');
    return r.value;
  }

  async preview(pattern: string, sample: string): Promise<PatternPreview> {
    try {
      const r = await this.request({
        type: 'preview',
        id: 0,
        pattern,
        path: sample,
        utcOffsetMinutes: this.offset(),
      });
      if (r.type === 'preview') return r.value;
      throw new EngineError(ErrorCodes.internal, 'Unexpected answer from the pattern worker.');
    } catch (err) {
      const e = err as EngineError;
      return {
        matched: false,
        patientId: null,
        ear: 'unknown',
        capturedAt: null,
        error: { code: e.code ?? ErrorCodes.internal, message: e.message },
      };
    }
  }

  async check(pattern: string): Promise<void> {
    await this.request({ type: 'check', id: 0, pattern });
  }

  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = null;
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      if (p.timer) clearTimeout(p.timer);
      p.reject(new EngineError(ErrorCodes.cancelled, 'The file-name pattern worker was shut down.'));
    }
    if (w) await w.terminate();
  }

  private request(msg: ToPatternWorker): Promise<FromPatternWorker> {
    if (this.closed)
      return Promise.reject(
        new EngineError(ErrorCodes.cancelled, 'The file-name pattern worker was shut down.'),
      );
    const id = this.nextId++;
    const withId = { ...msg, id } as ToPatternWorker;
    return new Promise<FromPatternWorker>((resolve, reject) => {
      const req = { msg: withId, resolve, reject, timer: null as NodeJS.Timeout | null };
      this.pending.set(id, req);
      this.send(req);
    }).then((r) => {
      if (r.type === 'error') throw new EngineError(r.code, r.message);
      return r;
    });
  }

  private send(req: Request & { timer: NodeJS.Timeout | null }): void {
    const worker = this.worker ?? this.spawn();
    if (!this.ready) return; // sent when the worker says it is ready
    req.timer = setTimeout(() => this.timedOut(req), this.timeoutMs);
    worker.postMessage(req.msg);
  }

  private timedOut(req: Request & { timer: NodeJS.Timeout | null }): void {
    if (!this.pending.delete(req.msg.id)) return;
    const name = 'path' in req.msg ? ` on "${req.msg.path.slice(0, 120)}"` : '';
    req.reject(
      new PatternTimeout(
        ErrorCodes.invalidArgs,
        `The file-name pattern took longer than ${this.timeoutMs} ms${name} and was stopped; simplify it.`,
      ),
    );
    // The worker is stuck on that request: replace it and resend what was queued behind it.
    const stuck = this.worker;
    this.worker = null;
    this.ready = false;
    void stuck?.terminate();
    for (const other of this.pending.values()) {
      if (other.timer) clearTimeout(other.timer);
      this.send(other);
    }
  }

  private spawn(): Worker {
    const worker = new Worker(workerEntry());
    worker.unref();
    this.worker = worker;
    this.ready = false;
    const bootTimer = setTimeout(() => {
      worker.emit('error', new Error('it did not start within 60 s'));
      void worker.terminate();
    }, 60_000);
    bootTimer.unref();
    worker.on('message', (r: FromPatternWorker) => {
      if (r.type === 'ready') {
        clearTimeout(bootTimer);
        if (this.worker !== worker) return;
        this.ready = true;
        for (const p of this.pending.values()) this.send(p);
        return;
      }
      const req = this.pending.get(r.id);
      if (!req) return;
      this.pending.delete(r.id);
      if (req.timer) clearTimeout(req.timer);
      req.resolve(r);
    });
    const lost = (why: string) => {
      clearTimeout(bootTimer);
      if (this.worker !== worker) return;
      this.worker = null;
      this.ready = false;
      for (const [id, p] of this.pending) {
        this.pending.delete(id);
        if (p.timer) clearTimeout(p.timer);
        p.reject(new EngineError(ErrorCodes.internal, `The file-name pattern worker ${why}.`));
      }
    };
    worker.on('error', (err) => lost(`failed: ${err.message}`));
    worker.on('exit', (code) => lost(`stopped (exit code ${code})`));
    return worker;
  }
}
