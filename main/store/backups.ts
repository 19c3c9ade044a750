import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { toEngineError } from '../util/errors.ts';
import { PRIVATE_DIR_MODE, makeFilePrivateAsync, touchPrivateFile } from '../util/private-files.ts';

export type BackupKind = 'daily' | 'pre-migration';

/** How many backups of each kind are kept. */
export const KEEP_BACKUPS: Record<BackupKind, number> = { daily: 7, 'pre-migration': 5 };
const DAY_MS = 24 * 60 * 60 * 1000;

function stamp(d = new Date()): string {
  return d.toISOString().replace(/[-:.]/g, '');
}

/** Online backups of the live database (SQLite's backup API: consistent while the engine keeps writing). */
export class Backups {
  constructor(
    private readonly db: Database.Database,
    readonly dir: string,
  ) {}

  async create(kind: BackupKind, label = ''): Promise<string> {
    await mkdir(this.dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    const name = `eardrum-${kind}-${stamp()}${label ? `-${label}` : ''}.sqlite`;
    const final = path.join(this.dir, name);
    const partial = `${final}.partial`;
    try {
      touchPrivateFile(partial);
      await this.db.backup(partial);
      await makeFilePrivateAsync(partial);
      // Renamed only when complete, so a backup on disk is never half a file.
      await rename(partial, final);
    } catch (err) {
      await rm(partial, { force: true });
      throw toEngineError(err, `Backing up the database to ${final}`);
    }
    await this.prune(kind);
    return final;
  }

  async list(kind: BackupKind): Promise<{ file: string; mtimeMs: number }[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const prefix = `eardrum-${kind}-`;
    const out: { file: string; mtimeMs: number }[] = [];
    for (const n of names) {
      if (!n.startsWith(prefix) || !n.endsWith('.sqlite')) continue;
      const file = path.join(this.dir, n);
      out.push({ file, mtimeMs: (await stat(file)).mtimeMs });
    }
    // Names carry a sortable UTC stamp; newest first.
    return out.sort((a, b) => (a.file < b.file ? 1 : -1));
  }

  /** Makes a daily backup when the newest one is older than a day. Returns its path, or null. */
  async dailyIfDue(now = Date.now()): Promise<string | null> {
    const [latest] = await this.list('daily');
    if (latest && now - latest.mtimeMs < DAY_MS) return null;
    return this.create('daily');
  }

  private async prune(kind: BackupKind): Promise<void> {
    const all = await this.list(kind);
    for (const old of all.slice(KEEP_BACKUPS[kind])) await rm(old.file, { force: true });
  }
}
