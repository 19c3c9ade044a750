import { ErrorCodes } from '../../common/contract.ts';
import { EngineError } from '../util/errors.ts';

/**
 * At most `max` hand uploads are received and ingested at once: each may be 25 MB, and three at once once
 * took the engine from 381 to 705 MB. Beyond that the caller is told to retry shortly (HTTP 429).
 */
export class UploadSlots {
  private used = 0;
  constructor(readonly max = 2) {}

  get inUse(): number {
    return this.used;
  }

  /** A release function, or null when every slot is taken. */
  tryAcquire(): (() => void) | null {
    if (this.used >= this.max) return null;
    this.used++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used--;
    };
  }

  /** Like tryAcquire, but throws `too_many_requests` with a clear sentence. */
  acquire(): () => void {
    const release = this.tryAcquire();
    if (!release) {
      throw new EngineError(
        ErrorCodes.tooManyRequests,
        `${this.max} uploads are already being received; try again in a moment.`,
      );
    }
    return release;
  }
}
