import Database from 'better-sqlite3';
import type { Ear, ErrorInfo, Settings } from '../../common/contract.ts';
import type { Diagnosis } from '../../model/types.ts';
import { toEngineError } from '../util/errors.ts';
import { makeFilePrivate, touchPrivateFile } from '../util/private-files.ts';
import type { NewImage } from './record-rows.ts';
import type { ReviewInput } from './store.ts';

/**
 * A review or a patient edit made while the database was unreachable, with the time it was made (the time
 * it is written with, so the audit trail keeps it) and, for a review, its author.
 */
export type QueuedEdit = { at: string } & (
  | { kind: 'review'; review: ReviewInput }
  | { kind: 'patient'; recordId: number; patientId: string | null; ear: Ear }
);

/** The database a workstation last reached, at which schema and when, and the settings it used then. */
export interface RememberedDatabase {
  database: string;
  schemaVersion: number;
  at: string;
  settings: Settings;
}

/** A photo admitted while the database was away: its record as it will be inserted, and its name's folder. */
export interface QueuedPhoto {
  image: NewImage;
  /** Path relative to the watched folder (what a rename is parsed by when the photo turns out known). */
  relative: string;
}

/** The model's answer kept for later; the overlay is already a file in the library. */
export type QueuedResult = { diagnosis: Diagnosis; overlayPath: string | null } | { failure: ErrorInfo };

/** A photo that has no record yet, or the answer for a record written before the server went away. */
export type OutboxEntry = { id: number; result: QueuedResult | null; error: string | null } & (
  { kind: 'photo'; photo: QueuedPhoto } | { kind: 'result'; imageId: number; path: string; sha256: string }
);

/**
 * The local queue (outbox) of what the engine could not write while the shared PostgreSQL was unreachable:
 * a small SQLite file in the data folder, each change one transaction made durable (synchronous FULL)
 * before the engine moves on, so a crash or a power cut while the server is away loses nothing. Entries
 * are removed only after their write to PostgreSQL committed; replaying one twice is safe because that
 * write is idempotent (see stages/catch-up.ts).
 */
export class Outbox {
  private readonly db: Database.Database;

  constructor(file: string) {
    try {
      touchPrivateFile(file);
      makeFilePrivate(file);
      this.db = new Database(file);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      this.db.exec(`CREATE TABLE IF NOT EXISTS entries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL CHECK (kind IN ('photo', 'result')),
        payload TEXT NOT NULL,
        result TEXT,
        error TEXT,
        created_at TEXT NOT NULL)`);
      // Reviews and patient edits: a table of their own, written after the photos, each in the order made.
      this.db.exec(`CREATE TABLE IF NOT EXISTS edits (
        id INTEGER PRIMARY KEY AUTOINCREMENT, payload TEXT NOT NULL, error TEXT, created_at TEXT NOT NULL)`);
      this.db.exec('UPDATE edits SET error = NULL WHERE error IS NOT NULL');
      this.db.exec('CREATE TABLE IF NOT EXISTS memory (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
      // A write refused in an earlier run is tried again once per start (the cause may have been fixed).
      this.db.exec('UPDATE entries SET error = NULL WHERE error IS NOT NULL');
    } catch (err) {
      throw toEngineError(err, `Opening the local queue ${file}`);
    }
  }

  addPhoto(photo: QueuedPhoto): number {
    return this.insert('photo', photo, null);
  }

  addResult(imageId: number, path: string, sha256: string, result: QueuedResult): number {
    return this.insert('result', { imageId, path, sha256 }, result);
  }

  setResult(id: number, result: QueuedResult): void {
    this.db.prepare('UPDATE entries SET result = ? WHERE id = ?').run(serialise(result), id);
  }

  setError(id: number, message: string): void {
    this.db.prepare('UPDATE entries SET error = ? WHERE id = ?').run(message, id);
  }

  remove(id: number): void {
    this.db.prepare('DELETE FROM entries WHERE id = ?').run(id);
  }

  /** Entries not refused in this run, oldest first, with an id above `after`. */
  next(after: number, limit = 50): OutboxEntry[] {
    const rows = this.db
      .prepare<
        [number, number],
        { id: number; kind: 'photo' | 'result'; payload: string; result: string | null; error: string | null }
      >(
        'SELECT id, kind, payload, result, error FROM entries WHERE id > ? AND error IS NULL ORDER BY id LIMIT ?',
      )
      .all(after, limit);
    return rows.map((r) => {
      const result = r.result === null ? null : revive(r.result);
      return r.kind === 'photo'
        ? { id: r.id, kind: 'photo', photo: JSON.parse(r.payload) as QueuedPhoto, result, error: r.error }
        : {
            id: r.id,
            kind: 'result',
            ...(JSON.parse(r.payload) as { imageId: number; path: string; sha256: string }),
            result,
            error: r.error,
          };
    });
  }

  counts(): { waiting: number; refused: number } {
    const r = this.db
      .prepare<[], { waiting: number; refused: number | null }>(
        `SELECT count(*) AS waiting, sum(error IS NOT NULL) AS refused
         FROM (SELECT error FROM entries UNION ALL SELECT error FROM edits)`,
      )
      .get()!;
    return { waiting: r.waiting, refused: r.refused ?? 0 };
  }

  addEdit(edit: QueuedEdit): number {
    const r = this.db
      .prepare('INSERT INTO edits (payload, created_at) VALUES (?, ?)')
      .run(JSON.stringify(edit), new Date().toISOString());
    return Number(r.lastInsertRowid);
  }

  /** Edits not refused in this run, in the order they were made, with an id above `after`. */
  nextEdits(after: number, limit = 50): { id: number; edit: QueuedEdit }[] {
    return this.db
      .prepare<[number, number], { id: number; payload: string }>(
        'SELECT id, payload FROM edits WHERE id > ? AND error IS NULL ORDER BY id LIMIT ?',
      )
      .all(after, limit)
      .map((r) => ({ id: r.id, edit: JSON.parse(r.payload) as QueuedEdit }));
  }

  removeEdit(id: number): void {
    this.db.prepare('DELETE FROM edits WHERE id = ?').run(id);
  }

  setEditError(id: number, message: string): void {
    this.db.prepare('UPDATE edits SET error = ? WHERE id = ?').run(message, id);
  }

  /** Whether reviews or edits wait here (a new one then joins them, so they are written in order). */
  hasEdits(): boolean {
    return this.db.prepare('SELECT 1 FROM edits WHERE error IS NULL LIMIT 1').get() !== undefined;
  }

  /** The photos (by their bytes' hash) of every entry: their answers are written from here. */
  photos(): string[] {
    return this.db
      .prepare<[], { sha: string }>(
        `SELECT coalesce(json_extract(payload, '$.image.sha256'), json_extract(payload, '$.sha256')) AS sha
         FROM entries`,
      )
      .all()
      .map((r) => r.sha);
  }

  /** Whether a queued photo came from this file (its answer is written from here, not from the file). */
  hasPhotoFrom(file: string): boolean {
    return !!this.db
      .prepare(
        "SELECT 1 FROM entries WHERE kind = 'photo' AND json_extract(payload, '$.image.originalPath') = ?",
      )
      .get(file);
  }

  /** The reason of the most recently refused entry, for the status line. */
  lastError(): string | null {
    return (
      this.db
        .prepare<[], { error: string }>(
          `SELECT error FROM (SELECT id, error FROM entries UNION ALL SELECT id, error FROM edits)
           WHERE error IS NOT NULL ORDER BY id DESC LIMIT 1`,
        )
        .get()?.error ?? null
    );
  }

  /**
   * Remembers that this workstation works on `database` (its URL without password), at that schema, with
   * these settings: what a start while that server is away needs (see store/open-store.ts).
   */
  rememberDatabase(database: string, schemaVersion: number, settings: Settings): void {
    const put = this.db.prepare('INSERT OR REPLACE INTO memory (key, value) VALUES (?, ?)');
    this.db.transaction(() => {
      put.run('database', JSON.stringify({ database, schemaVersion, at: new Date().toISOString() }));
      put.run('settings', JSON.stringify(settings));
    })();
  }

  /** The settings this room last used, kept for a start while the server is away. */
  rememberSettings(settings: Settings): void {
    this.db
      .prepare("INSERT OR REPLACE INTO memory (key, value) VALUES ('settings', ?)")
      .run(JSON.stringify(settings));
  }

  /** The database this workstation last worked on, or null when it never reached one. */
  lastDatabase(): RememberedDatabase | null {
    const get = (key: string) =>
      this.db.prepare<[string], { value: string }>('SELECT value FROM memory WHERE key = ?').get(key)?.value;
    const db = get('database');
    const settings = get('settings');
    if (!db || !settings) return null;
    return {
      ...(JSON.parse(db) as Omit<RememberedDatabase, 'settings'>),
      settings: JSON.parse(settings) as Settings,
    };
  }

  /**
   * The last snapshot (`pg_current_snapshot()` as text) this room's listener heard in full on `database`:
   * what a later start while that server is away catches up from (store/pg-listener.ts).
   */
  rememberHeard(database: string, snapshot: string): void {
    this.db
      .prepare("INSERT OR REPLACE INTO memory (key, value) VALUES ('heard', ?)")
      .run(JSON.stringify({ database, snapshot }));
  }

  /** The snapshot last heard in full on `database`, or null (none kept, or kept for another database). */
  lastHeard(database: string): string | null {
    const value = this.db
      .prepare<[], { value: string }>("SELECT value FROM memory WHERE key = 'heard'")
      .get()?.value;
    if (!value) return null;
    const kept = JSON.parse(value) as { database?: unknown; snapshot?: unknown };
    const valid = typeof kept.snapshot === 'string' && /^\d+:\d+:(\d+(,\d+)*)?$/.test(kept.snapshot);
    return kept.database === database && valid ? (kept.snapshot as string) : null;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private insert(kind: 'photo' | 'result', payload: unknown, result: QueuedResult | null): number {
    const r = this.db
      .prepare('INSERT INTO entries (kind, payload, result, created_at) VALUES (?, ?, ?, ?)')
      .run(kind, JSON.stringify(payload), result ? serialise(result) : null, new Date().toISOString());
    return Number(r.lastInsertRowid);
  }
}

/** The overlay PNG is already in the library (its path is kept): its bytes are not queued a second time. */
function serialise(result: QueuedResult): string {
  if (!('diagnosis' in result) || !result.diagnosis.heatmap) return JSON.stringify(result);
  const { overlayPng: _png, ...heatmap } = result.diagnosis.heatmap;
  return JSON.stringify({ ...result, diagnosis: { ...result.diagnosis, heatmap } });
}

function revive(text: string): QueuedResult {
  const r = JSON.parse(text) as QueuedResult;
  if ('diagnosis' in r && r.diagnosis.heatmap) r.diagnosis.heatmap.overlayPng = Buffer.alloc(0);
  return r;
}
