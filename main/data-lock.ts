import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { EngineError, toEngineError } from './util/errors.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Data folders locked by this process (a second lock from the same process is as wrong as from another). */
const heldHere = new Set<string>();

/**
 * One engine per data folder: two would both diagnose every new file. The lock file holds the owner's pid;
 * a lock left by a killed process (pid gone) is taken over.
 */
export class DataDirLock {
  private held = false;
  readonly file: string;

  constructor(dataDir: string) {
    this.file = path.join(dataDir, 'engine.lock');
  }

  acquire(): void {
    if (heldHere.has(this.file)) {
      throw new EngineError(
        'already_running',
        `This data folder is already in use by this app (${this.file}).`,
      );
    }
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(this.file, 'wx', 0o600);
        writeSync(fd, String(process.pid));
        closeSync(fd);
        this.held = true;
        heldHere.add(this.file);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST')
          throw toEngineError(err, `Locking the data folder (${this.file})`);
      }
      let owner = NaN;
      try {
        owner = Number(readFileSync(this.file, 'utf8').trim());
      } catch {
        // Unreadable lock: treat as stale.
      }
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
        throw new EngineError(
          'already_running',
          `Another Eardrum Workstation engine (pid ${owner}) is using this data folder. Close it first.`,
        );
      }
      rmSync(this.file, { force: true });
    }
    throw new EngineError('already_running', `Could not lock the data folder (${this.file}).`);
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    heldHere.delete(this.file);
    rmSync(this.file, { force: true });
  }
}
