import { stat } from 'node:fs/promises';

interface Entry {
  size: number;
  mtimeMs: number;
  /** When to stat again. */
  due: number;
  /** When the file was first noticed (for the write-wait figure). */
  firstSeen: number;
  /** When size/mtime last changed. */
  changedAt: number;
}

export interface StableFile {
  path: string;
  size: number;
  mtimeMs: number;
  firstSeen: number;
  /** Time the file last changed, i.e. our best estimate of when the writer closed it. */
  changedAt: number;
}

/**
 * Waits until each noticed file has kept the same size and mtime for `stabilityMs`, then hands it on.
 * Watch events (or polling) only say "something happened"; a file being copied in chunks fires many of
 * them, and reading it early would hash half an image.
 */
export class WriteStabilizer {
  private readonly entries = new Map<string, Entry>();
  private timer: NodeJS.Timeout | null = null;
  private checking = false;

  constructor(
    private readonly onStable: (f: StableFile) => void,
    private readonly stabilityMs: number,
    private readonly tickMs = Math.max(20, Math.min(100, Math.round(stabilityMs / 4))),
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** A file appeared or changed (sizes from the event's stat when available). */
  touch(path: string, size = -1, mtimeMs = -1, delayMs = this.stabilityMs): void {
    const now = Date.now();
    const e = this.entries.get(path);
    if (e) {
      if (e.size !== size || e.mtimeMs !== mtimeMs) e.changedAt = now;
      e.size = size;
      e.mtimeMs = mtimeMs;
      e.due = Math.max(e.due, now + delayMs);
    } else {
      this.entries.set(path, { size, mtimeMs, due: now + delayMs, firstSeen: now, changedAt: now });
    }
    this.timer ??= setInterval(() => void this.check(), this.tickMs);
  }

  forget(path: string): void {
    this.entries.delete(path);
  }

  private async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const now = Date.now();
      const due = [...this.entries].filter(([, e]) => e.due <= now);
      // Bounded batches keep a 1,000-file burst from issuing 1,000 stats at once.
      for (let i = 0; i < due.length; i += 64) {
        await Promise.all(due.slice(i, i + 64).map(([p, e]) => this.checkOne(p, e)));
      }
    } finally {
      this.checking = false;
      if (this.entries.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = null;
      }
    }
  }

  private async checkOne(path: string, e: Entry): Promise<void> {
    let s;
    try {
      s = await stat(path);
    } catch {
      // Gone (moved away or deleted before it settled): nothing to ingest.
      this.entries.delete(path);
      return;
    }
    if (this.entries.get(path) !== e) return;
    const now = Date.now();
    if (s.size === e.size && s.mtimeMs === e.mtimeMs && now - e.changedAt >= this.stabilityMs) {
      this.entries.delete(path);
      this.onStable({
        path,
        size: s.size,
        mtimeMs: s.mtimeMs,
        firstSeen: e.firstSeen,
        changedAt: e.changedAt,
      });
      return;
    }
    if (s.size !== e.size || s.mtimeMs !== e.mtimeMs) {
      e.size = s.size;
      e.mtimeMs = s.mtimeMs;
      e.changedAt = now;
    }
    e.due = Math.max(now, e.changedAt) + this.stabilityMs;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.entries.clear();
  }
}
