import path from 'node:path';
import type { EngineEvent, EngineStatus, ErrorInfo, RecordSummary } from '../../../common/contract.ts';
import type { Diagnosis } from '../../../model/types.ts';
import { ErrorCodes } from '../../../common/contract.ts';
import { EngineError } from '../../util/errors.ts';
import type { Logger } from '../../util/logger.ts';
import type { Stored } from './photo-sources.ts';

type Listener = (e: EngineEvent) => void;

interface Waiter {
  resolve: (r: RecordSummary) => void;
  reject: (e: Error) => void;
}

/**
 * The last stage: tells the screens (live events) and whoever waits on one record (a hand upload waits for
 * its diagnosis). A listener that throws is logged and does not stop the others.
 */
/** The log line of a diagnosed photo; a not-sure answer says so, as the UI's headline does. */
export function doneLine(
  fileName: string,
  d: Pick<Diagnosis, 'gate' | 'label' | 'gateReason' | 'decision' | 'timings'>,
  confidence: number | null,
): string {
  const label = d.label ? ` ${d.label} ${((confidence ?? 0) * 100).toFixed(0)}%` : '';
  const notSure = d.decision === 'not_sure' ? ', not sure' : '';
  return `done ${fileName}: ${d.gate}${label}${notSure}${d.gateReason ? ` (${d.gateReason})` : ''} [${d.timings.totalMs} ms]`;
}

export class Notifier {
  private readonly listeners = new Set<Listener>();
  private readonly waiters = new Map<number, Waiter[]>();

  constructor(private readonly logger: Logger) {}

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(e: EngineEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        this.logger.warn(`event listener failed: ${(err as Error).message}`);
      }
    }
  }

  /**
   * Announces what admitting one file came to, but a new photo (announced when the model is done with it): a
   * failure with its record, or a duplicate (a new source shows as a result of its own when the photo's
   * answer is known; a followed rename as an updated record). `count` is told first, so the status sent
   * along already counts it.
   */
  async announceStored(
    a: Exclude<Stored, { kind: 'new' }>,
    file: string,
    ctx: {
      count(kind: 'failed' | 'duplicate'): void;
      status(): EngineStatus;
      summary(id: number): Promise<RecordSummary | null>;
    },
  ): Promise<void> {
    ctx.count(a.kind === 'failed' ? 'failed' : 'duplicate');
    if (a.kind === 'failed') {
      const record = await ctx.summary(a.recordId);
      this.logger.info(`failed ${path.basename(file)}: ${a.failure.message}`);
      this.emit({ type: 'failed', path: file, error: a.failure, record, status: ctx.status() });
      this.settle(a.recordId, record);
      return;
    }
    this.emit({ type: 'duplicate', path: file, recordId: a.recordId, status: ctx.status() });
    const record = await ctx.summary(a.recordId);
    if (!record) return;
    if (a.kind === 'moved') this.emit({ type: 'record.updated', record });
    if (a.kind !== 'source') return;
    if (record.status === 'done') this.emit({ type: 'done', record, status: ctx.status() });
    else if (record.status === 'failed' && record.failure)
      this.emit({ type: 'failed', path: file, error: record.failure, record, status: ctx.status() });
  }

  /**
   * Announces the model's answer (or why there is none) once committed: a `done` or `failed` event for the
   * photo's record, an update for each of its other sources, and every waiter settled.
   */
  announceResult(
    file: string,
    r: { record: RecordSummary | null; others: RecordSummary[] } & (
      { diagnosis: Diagnosis } | { failure: ErrorInfo }
    ),
    status: () => EngineStatus,
  ): void {
    const { record } = r;
    if ('failure' in r) {
      this.logger.info(`failed ${path.basename(file)}: ${r.failure.message}`);
      this.emit({ type: 'failed', path: file, error: r.failure, record, status: status() });
    } else if (record) {
      this.logger.info(doneLine(record.fileName, r.diagnosis, record.confidence));
      this.emit({ type: 'done', record, status: status() });
    }
    if (record) this.settle(record.id, record);
    for (const o of r.others) {
      this.emit({ type: 'record.updated', record: o });
      this.settle(o.id, o);
    }
  }

  /** Resolves with the record once its diagnosis (or failure) is committed. */
  waitFor(id: number): Promise<RecordSummary> {
    return new Promise((resolve, reject) => {
      const list = this.waiters.get(id) ?? [];
      list.push({ resolve, reject });
      this.waiters.set(id, list);
    });
  }

  settle(id: number, record: RecordSummary | null): void {
    const ws = this.waiters.get(id);
    if (!ws) return;
    this.waiters.delete(id);
    for (const w of ws) {
      if (record) w.resolve(record);
      else w.reject(new EngineError(ErrorCodes.notFound, `Record ${id} vanished.`));
    }
  }

  reject(id: number, err: Error): void {
    const ws = this.waiters.get(id);
    this.waiters.delete(id);
    ws?.forEach((w) => w.reject(err));
  }

  rejectAll(err: Error): void {
    for (const [, ws] of this.waiters) for (const w of ws) w.reject(err);
    this.waiters.clear();
  }
}
