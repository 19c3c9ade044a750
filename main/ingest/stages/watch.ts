import { statSync, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { ErrorInfo, Settings } from '../../../common/contract.ts';
import { ErrorCodes } from '../../../common/contract.ts';
import type { Logger } from '../../util/logger.ts';
import { isInside } from '../../util/safe-path.ts';
import { FolderWatcher } from '../folder-watcher.ts';

export interface WatchStageOptions {
  /** The data folder: never watched even if it sits inside the watched folder. */
  dataDir: string;
  logger: Logger;
  /** A file appeared or changed (size and mtime as seen; -1 when unknown). */
  onFile(file: string, size: number, mtimeMs: number): void;
  /** Watching started or stopped, or a problem appeared or went away. */
  onChange(): void;
}

/**
 * The first stage: the watched folder. A folder that is missing (an unplugged share) is reported and looked
 * for again every 2 s; folder options that change restart the watcher. A folder that goes away while watched,
 * or is replaced by another one under the same path (a USB disk plugged back, a share mounted again), is
 * watched afresh: the old watcher follows the old folder and would never see a photo in the new one.
 */
export class WatchStage {
  private watcher: FolderWatcher | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private checkTimer: NodeJS.Timeout | null = null;
  /** The watched folder's device and inode when the watcher started. */
  private identity: string | null = null;
  private checking = false;
  private active = false;
  watching = false;
  /** Why the folder is not being watched (missing) or last failed; null when fine. */
  error: ErrorInfo | null = null;

  constructor(private readonly opts: WatchStageOptions) {}

  async start(settings: Settings): Promise<void> {
    this.active = true;
    await this.open(settings);
  }

  async stop(): Promise<void> {
    this.active = false;
    await this.close();
  }

  /** Applies folder options; the watcher restarts only when they changed. */
  async apply(prev: Settings, next: Settings): Promise<void> {
    const changed =
      prev.watchDir !== next.watchDir ||
      prev.recursive !== next.recursive ||
      prev.usePolling !== next.usePolling ||
      prev.pollIntervalMs !== next.pollIntervalMs;
    if (!changed || !this.active) return;
    await this.close();
    await this.open(next);
  }

  /** A file went in fine: a watcher hiccup reported earlier is over (a missing folder is not). */
  clearTransientError(): void {
    if (this.error && this.error.code !== 'watch_dir_missing') this.error = null;
  }

  private async open(settings: Settings): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (!this.active || this.watcher) return;
    const dir = settings.watchDir;
    if (!dir) {
      this.watching = false;
      return;
    }
    const identity = folderIdentity(dir);
    if (!identity) {
      // A network share may be offline or a USB disk unplugged: say so and look again shortly. The log says
      // it once per absence, not every 2 s, so that a typo in --watch is seen in the terminal too.
      if (this.error?.code !== 'watch_dir_missing')
        this.opts.logger.warn(
          `the watched folder ${dir} does not exist or is not a folder; looking again every 2 s`,
        );
      this.error = {
        code: 'watch_dir_missing',
        message: `The watched folder ${dir} does not exist or is not a folder.`,
      };
      this.watching = false;
      this.retryTimer = setTimeout(() => void this.open(settings), 2000);
      return;
    }
    const watcher = new FolderWatcher({
      dir,
      recursive: settings.recursive,
      usePolling: settings.usePolling,
      pollIntervalMs: settings.pollIntervalMs,
      excludeDirs: ownFolders(this.opts.dataDir, dir),
      onFile: (file, s) => this.opts.onFile(file, s?.size ?? -1, s?.mtimeMs ?? -1),
      onRootGone: () => void this.recheck(watcher, settings),
      onError: (err) => {
        this.opts.logger.warn(`watcher: ${err.message}`);
        this.error = { code: ErrorCodes.ioError, message: `Watching ${dir} failed: ${err.message}` };
      },
    });
    this.watcher = watcher;
    this.identity = identity;
    await watcher.start();
    if (this.watcher !== watcher) return; // stopped or re-aimed while the backlog was read
    this.watching = true;
    this.checkTimer = setInterval(() => void this.recheck(watcher, settings), 2000);
    this.checkTimer.unref();
    if (this.error?.code === 'watch_dir_missing') this.error = null;
    this.opts.logger.info(
      `watching ${dir}${settings.recursive ? ' (recursive)' : ''}${settings.usePolling ? ' (polling)' : ''}`,
    );
    this.opts.onChange();
  }

  /** Watches afresh when the folder is gone or is another folder now (see the class comment). */
  private async recheck(watcher: FolderWatcher, settings: Settings): Promise<void> {
    // Asynchronous and one at a time: a hung network mount must neither block the event loop nor pile up looks.
    if (this.watcher !== watcher || this.checking) return;
    this.checking = true;
    let same: boolean;
    try {
      same = (await folderIdentityAsync(settings.watchDir)) === this.identity;
    } finally {
      this.checking = false;
    }
    if (same || this.watcher !== watcher) return;
    this.opts.logger.warn(
      `the watched folder ${settings.watchDir} went away or was replaced; watching it afresh`,
    );
    await this.close();
    await this.open(settings);
    // Missing now, or watched again: either way the screens hear it.
    this.opts.onChange();
  }

  private async close(): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.checkTimer) clearInterval(this.checkTimer);
    this.checkTimer = null;
    this.identity = null;
    const w = this.watcher;
    this.watcher = null;
    this.watching = false;
    if (w) await w.close();
  }
}

/** The data folder's own subfolders: the app writes there, so a watcher never diagnoses what it finds in them. */
const APP_FOLDERS = new Set(['library', 'backups', 'models', 'tmp']);

/**
 * What the watcher must not look into. The whole data folder, in case it sits inside the watched one; but a
 * watched folder inside the data folder (an inbox beside the database, as in the README's trial) is watched,
 * unless it is one of the app's own folders.
 */
export function ownFolders(dataDir: string, watched: string): string[] {
  const data = path.resolve(dataDir);
  const root = path.resolve(watched);
  if (root === data || !isInside(data, root)) return [data];
  const first = path.relative(data, root).split(path.sep)[0]!;
  return APP_FOLDERS.has(first) ? [data] : [];
}

/** "device:inode" of a folder, or null when there is no folder at that path. */
function folderIdentity(dir: string): string | null {
  try {
    return identityOf(statSync(dir));
  } catch {
    return null;
  }
}

async function folderIdentityAsync(dir: string): Promise<string | null> {
  return stat(dir).then(identityOf, () => null);
}

function identityOf(st: Stats): string | null {
  return st.isDirectory() ? `${st.dev}:${st.ino}` : null;
}
