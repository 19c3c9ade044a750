import type { EngineStatus } from '../../../common/contract.ts';
import type { RecordChange, SharedHistory, Store } from '../../store/store.ts';
import { isDatabaseUnreachable } from '../../util/errors.ts';
import type { Logger } from '../../util/logger.ts';
import type { Notifier } from './notify.ts';

export interface RemoteChangesOptions {
  store: Store;
  notifier: Notifier;
  logger: Logger;
  status(): EngineStatus;
  /** Changes heard within this window are announced together, each record once (a burst, a review). */
  windowMs?: number;
  /**
   * Another room changed the clinic's settings (thresholds, clinic name), or the listener is back and may
   * have missed such a change: read them again and apply them here.
   */
  clinicSettingsChanged?: (() => void) | undefined;
}

/** Which of two changes to one record decides what is announced: an answer outranks an edit. */
const RANK: Record<RecordChange['kind'], number> = { updated: 0, pending: 1, new: 2, failed: 3, done: 3 };

/** Records whose last announced change is remembered, so that a change heard again is not announced twice. */
const REMEMBERED = 20_000;

/**
 * Other rooms' results and reviews on this room's live views: each notification names a record and how it
 * changed; the record is read once per window and announced with the same events as a local one (`done`,
 * `failed`, `record.updated`), so Live and the Board refresh as they do for this room's own photos. A
 * waiter on that record (a hand upload whose photo another room finished) is settled too.
 *
 * After the listener reconnects it hands over the changes made while it was away, and some it had heard
 * already: a change whose transaction was announced for that record is skipped. A record that could not be
 * read because the server went away is read again once the listener is back.
 */
export class RemoteChanges {
  private readonly heard = new Map<number, { kind: RecordChange['kind']; xid: string | undefined }>();
  /** The transaction of each record's latest announced change (the oldest forgotten first). */
  private readonly announced = new Map<number, string>();
  private deferred: RecordChange[] = [];
  private timer: NodeJS.Timeout | null = null;
  private unlisten: (() => Promise<void>) | null = null;
  /** Connected once already: a reconnection may have missed a settings change. */
  private listenedBefore = false;

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
      (s) => {
        if (!s.connected) {
          this.o.logger.warn(`live updates from the other rooms paused (${s.error ?? 'connection lost'})`);
          return;
        }
        this.o.logger.info('live updates from the other rooms: listening');
        this.hearDeferred();
        if (this.listenedBefore) this.o.clinicSettingsChanged?.();
        this.listenedBefore = true;
      },
      (by) => {
        if (by !== this.shared.workstation) this.o.clinicSettingsChanged?.();
      },
    );
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.heard.clear();
    this.deferred = [];
    await this.unlisten?.();
    this.unlisten = null;
  }

  /** Records that could not be read, read again once the server answers (the listener is back, or it notifies). */
  private hearDeferred(): void {
    const again = this.deferred;
    this.deferred = [];
    for (const c of again) this.hear(c);
  }

  private hear(c: RecordChange): void {
    if (this.deferred.length) this.hearDeferred();
    // This room announced its own changes when it made them.
    if (c.by === this.shared.workstation) return;
    if (c.xid !== undefined && this.announced.get(c.id) === c.xid) return;
    const prev = this.heard.get(c.id);
    const kind = prev === undefined || RANK[c.kind] >= RANK[prev.kind] ? c.kind : prev.kind;
    this.heard.set(c.id, { kind, xid: c.xid ?? prev?.xid });
    this.timer ??= setTimeout(() => void this.flush(), this.o.windowMs ?? 50);
  }

  private async flush(): Promise<void> {
    this.timer = null;
    const batch = [...this.heard];
    this.heard.clear();
    for (const [id, { kind, xid }] of batch) {
      try {
        await this.announce(id, kind);
        if (xid !== undefined) this.remember(id, xid);
      } catch (err) {
        this.o.logger.warn(`reading record ${id} changed by another room: ${(err as Error).message}`);
        if (isDatabaseUnreachable(err)) this.deferred.push({ id, kind, by: '', ...(xid ? { xid } : {}) });
      }
    }
  }

  private remember(id: number, xid: string): void {
    this.announced.delete(id);
    this.announced.set(id, xid);
    if (this.announced.size > REMEMBERED) this.announced.delete(this.announced.keys().next().value!);
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
