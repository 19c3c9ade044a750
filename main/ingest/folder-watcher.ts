import { watch, type FSWatcher } from 'chokidar';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { isInside } from '../util/safe-path.ts';
import { isIgnoredName } from './ignore-rules.ts';

export interface FolderWatchOptions {
  dir: string;
  recursive: boolean;
  usePolling: boolean;
  pollIntervalMs: number;
  /** Folders never to look into (the app's own data folder, if someone puts it inside the watched one). */
  excludeDirs: string[];
  onFile: (file: string, stats: Stats | undefined) => void;
  onError: (err: Error) => void;
  /** The watched folder itself was removed (it may come back as another folder under the same path). */
  onRootGone?: () => void;
}

/**
 * chokidar on the export folder. On start it reports every file already there (the backlog that arrived while
 * the app was closed), then each new or changed file. Deciding when a file is complete is the stabilizer's job.
 */
export class FolderWatcher {
  private watcher: FSWatcher | null = null;

  constructor(private readonly opts: FolderWatchOptions) {}

  /** Resolves once the initial scan has reported the backlog. */
  start(): Promise<void> {
    const { dir, recursive, usePolling, pollIntervalMs, excludeDirs, onFile, onError, onRootGone } =
      this.opts;
    const root = path.resolve(dir);
    const ignored = (p: string, stats?: Stats) => {
      const abs = path.resolve(p);
      if (abs === root) return false;
      if (isIgnoredName(abs)) return true;
      if (excludeDirs.some((d) => isInside(path.resolve(d), abs))) return true;
      return stats?.isFile() === false && !stats.isDirectory();
    };
    const watcher = watch(root, {
      ignoreInitial: false,
      persistent: true,
      // No depth limit when recursive: a file 40 folders down is a capture like any other (a limit once left
      // such files silently unseen). chokidar follows each symlinked folder once, so loops end.
      ...(recursive ? {} : { depth: 0 }),
      usePolling,
      interval: pollIntervalMs,
      binaryInterval: pollIntervalMs,
      alwaysStat: true,
      ignored,
    });
    this.watcher = watcher;
    watcher.on('add', (p, s) => onFile(path.resolve(p), s));
    watcher.on('change', (p, s) => onFile(path.resolve(p), s));
    watcher.on('unlinkDir', (p) => {
      if (path.resolve(p) === root) onRootGone?.();
    });
    watcher.on('error', (e) => onError(e instanceof Error ? e : new Error(String(e))));
    return new Promise((resolve) => watcher.once('ready', () => resolve()));
  }

  async close(): Promise<void> {
    const w = this.watcher;
    this.watcher = null;
    if (w) await w.close();
  }
}
