import type { ImageLibrary } from '../../library/library.ts';
import type { ImageRow, Store } from '../../store/store.ts';
import { isDatabaseUnreachable } from '../../util/errors.ts';
import type { Logger } from '../../util/logger.ts';

export interface JobClaimsOptions {
  store: Store;
  library: ImageLibrary;
  logger: Logger;
  /** How long a claim lasts without a heartbeat: a room silent this long is taken to be gone. */
  leaseMs: number;
  /** A photo this workstation has claimed outside admission (left pending, or taken over): queue it. */
  onClaimed(row: ImageRow): void;
}

const PAGE = 200;

/**
 * Who diagnoses each photo. One workstation (SQLite): this one, always. Several rooms on one PostgreSQL: the
 * room holding the photo's claim. A photo is claimed before it is queued; a heartbeat every third of the
 * lease keeps this room's claims alive, and the same tick takes pending photos whose claim is missing or
 * expired (a room that died mid-photo, or before its queue was done) when their copy is within reach.
 */
export class JobClaims {
  private timer: NodeJS.Timeout | null = null;
  private ticking = false;
  private begun = false;

  constructor(private readonly o: JobClaimsOptions) {}

  /** Whether this workstation may diagnose the photo (on a shared history: once its claim is ours). */
  async take(imageId: number): Promise<boolean> {
    const shared = this.o.store.shared;
    return shared ? shared.claimPhoto(imageId, this.o.leaseMs) : true;
  }

  /** Finds the photos left pending (by a crash or a stop) that are now this room's, then keeps watch. */
  async start(): Promise<void> {
    const shared = this.o.store.shared;
    if (!shared) {
      for (const row of await this.o.store.pendingImages()) this.o.onClaimed(row);
      return;
    }
    this.timer = setInterval(() => void this.tick(), Math.max(50, Math.round(this.o.leaseMs / 3)));
    this.timer.unref();
    try {
      await this.begin();
    } catch (err) {
      // Started while the server is away: the heartbeat begins once it answers.
      if (!isDatabaseUnreachable(err)) throw err;
      this.o.logger.warn(`claims: ${(err as Error).message}`);
    }
  }

  /**
   * Nothing of this room's is in flight while it starts: claims kept from a previous run are stale, and
   * renewing them would keep those photos from every room for good.
   */
  private async begin(): Promise<void> {
    await this.o.store.shared!.releaseClaims();
    this.begun = true;
    await this.sweep();
  }

  /** Stops the heartbeat and gives this room's claims back, so another room may take its queue at once. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.o.store.shared?.releaseClaims().catch((err: Error) => {
      this.o.logger.warn(`giving back claims: ${err.message}`);
    });
  }

  private async tick(): Promise<void> {
    const shared = this.o.store.shared;
    if (!shared || this.ticking) return;
    this.ticking = true;
    try {
      if (!this.begun) return await this.begin();
      await shared.renewClaims(this.o.leaseMs);
      await this.sweep();
    } catch (err) {
      // The server away: the claims lapse if this lasts, and the next tick tries again.
      this.o.logger.warn(`claims heartbeat: ${(err as Error).message}`);
    } finally {
      this.ticking = false;
    }
  }

  private async sweep(): Promise<void> {
    const shared = this.o.store.shared!;
    for (let after = 0; ;) {
      const rows = await shared.unclaimedPending(after, PAGE);
      for (const row of rows) {
        // Without a shared library another room's copy is out of reach here: its job stays that room's.
        if (!(await this.o.library.resolve(row.stored_path ?? ''))) continue;
        if (await shared.claimPhoto(row.id, this.o.leaseMs)) this.o.onClaimed(row);
      }
      if (rows.length < PAGE) return;
      after = rows[rows.length - 1]!.id;
    }
  }
}
