import type { EngineStatus } from '../../../common/contract.ts';
import type { RecordChange, SharedHistory, Store } from '../../store/store.ts';
import type { Logger } from '../../util/logger.ts';
import type { Notifier } from './notify.ts';

export interface RemoteChangesOptions {
  store: Store;
  notifier: Notifier;
  logger: Logger;
  status(): EngineStatus;
  /** Changes heard within this window are announced together, each record once (a burst, a review). */
  windowMs?: number;
}

/** Which of two changes to one record decides what is announced: an answer outranks an edit. */
const RANK: Record<RecordChange['kind'], number> = { updated: 0, pending: 1, new: 2, failed: 3, done: 3 };

/**
 * Other rooms' results and reviews on this room's live views: each notification names a record and how it
 * changed; the record is read once per window and announced with the same events as a local one (`done`,
 * `failed`, `record.updated`), so Live and the Board refresh as they do for this room's own photos. A
 * waiter on that record (a hand upload whose photo another room finished) is settled too.
 */
export class RemoteChanges {
  private readonly heard = new Map<number, RecordChange['kind']>();
  private timer: NodeJS.Timeout | null = null;
  private unlisten: (() => Promise<void>) | null = null;

  private constructor(
    private readonly o: RemoteChangesOptions,
    private readonly shared: SharedHistory,
  ) {}

  /** The stage for a shared history; null for one workstation's own (nobody else to hear). */
  static of(o: RemoteChangesOptions): RemoteChanges | null {
    return o.store.shared ? new RemoteChanges(o, o.store.shared) : null;
  }

  async start(): Promise<void> {
    this.unlisten = await this.shared.listen(
      (c) => this.hear(c),
      (s) =>
        s.connected
          ? this.o.logger.info('live updates from the other rooms: listening')
          : this.o.logger.warn(`live updates from the other rooms paused (${s.error ?? 'connection lost'})`),
    );
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.heard.clear();
    await this.unlisten?.();
    this.unlisten = null;
  }

  private hear(c: RecordChange): void {
    // This room announced its own changes when it made them.
    if (c.by === this.shared.workstation) return;
    const prev = this.heard.get(c.id);
    if (prev === undefined || RANK[c.kind] >= RANK[prev]) this.heard.set(c.id, c.kind);
    this.timer ??= setTimeout(() => void this.flush(), this.o.windowMs ?? 50);
  }

  private async flush(): Promise<void> {
    this.timer = null;
    const batch = [...this.heard];
    this.heard.clear();
    for (const [id, kind] of batch) {
      try {
        await this.announce(id, kind);
      } catch (err) {
        this.o.logger.warn(`reading record ${id} changed by another room: ${(err as Error).message}`);
      }
    }
  }

  private async announce(id: number, kind: RecordChange['kind']): Promise<void> {
    const { notifier } = this.o;
    const record = await this.o.store.summary(id);
    if (!record) return;
    const answered = kind === 'done' || kind === 'failed' || kind === 'new';
    if (answered && record.status === 'done') {
      notifier.emit({ type: 'done', record, status: this.o.status() });
      notifier.settle(id, record);
    } else if (answered && record.status === 'failed') {
      const error = record.failure ?? { code: 'failed', message: 'The image could not be diagnosed.' };
      notifier.emit({ type: 'failed', path: record.originalPath, error, record, status: this.o.status() });
      notifier.settle(id, record);
    } else if (kind !== 'new') {
      // A review, an edit, a retry queued: rows already shown are patched; a new pending photo waits for its answer.
      notifier.emit({ type: 'record.updated', record });
    }
  }
}
