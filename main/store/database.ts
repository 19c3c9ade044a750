import Database from 'better-sqlite3';
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';
import { ErrorCodes } from '../../common/contract.ts';
import { EngineError, toEngineError } from '../util/errors.ts';
import { ensurePrivateDir, makeFilePrivate, touchPrivateFile } from '../util/private-files.ts';
import { Backups } from './backups.ts';
import { checksum, LATEST_SCHEMA_VERSION, migrations } from './migrations.ts';

export interface OpenDatabaseOptions {
  /** Folder for automatic backups (before migrations, daily). */
  backupDir: string;
  /** How long a write waits for another connection's lock before failing (ms). */
  busyTimeoutMs?: number;
}

export interface OpenedDatabase {
  db: Database.Database;
  backups: Backups;
  /** Schema version before this open (0 for a new file) and after. */
  migratedFrom: number;
  schemaVersion: number;
  /** Backup made before migrating, if any. */
  preMigrationBackup: string | null;
}

/**
 * Opens (or creates) the engine database: WAL, foreign keys, a quick integrity check, a write probe, then
 * numbered migrations in one transaction each, after a backup of the previous version.
 * Every failure is an EngineError with a clear code (read_only, database_locked, database_corrupt, ...).
 */
export async function openDatabase(file: string, opts: OpenDatabaseOptions): Promise<OpenedDatabase> {
  const dir = path.dirname(file);
  if (!existsSync(dir)) {
    try {
      ensurePrivateDir(dir);
    } catch (err) {
      throw toEngineError(err, `Creating the database folder ${dir}`);
    }
  }
  // WAL needs to write the file and create -wal/-shm beside it: say so plainly instead of SQLITE_CANTOPEN.
  for (const target of existsSync(file) ? [file, dir] : [dir]) {
    try {
      accessSync(target, constants.W_OK);
    } catch (err) {
      const e = toEngineError(err, `The database ${file} cannot be written`);
      throw new EngineError(
        ErrorCodes.readOnly,
        `${e.message}; the app needs write access to it and its folder.`,
      );
    }
  }
  let db: Database.Database;
  try {
    // SQLite would create the file 0644; its -wal and -shm files copy the database file's mode.
    touchPrivateFile(file);
    makeFilePrivate(file);
    db = new Database(file, { timeout: opts.busyTimeoutMs ?? 5000 });
  } catch (err) {
    throw toEngineError(err, `Opening the database ${file}`);
  }
  try {
    const quick = db.pragma('quick_check', { simple: false }) as { quick_check: string }[];
    const problems = quick.map((r) => r.quick_check).filter((r) => r !== 'ok');
    if (problems.length > 0) {
      throw new EngineError(
        ErrorCodes.databaseCorrupt,
        `The database ${file} failed its integrity check (${problems.slice(0, 3).join('; ')}). ` +
          `Restore the newest backup from ${opts.backupDir} or move the file away to start a new one.`,
      );
    }
    const mode = String(db.pragma('journal_mode = WAL', { simple: true })).toLowerCase();
    if (mode !== 'wal') {
      throw new EngineError(
        ErrorCodes.readOnly,
        `The database ${file} cannot switch to WAL mode (got ${mode}).`,
      );
    }
    for (const side of [`${file}-wal`, `${file}-shm`]) if (existsSync(side)) makeFilePrivate(side);
    db.pragma('foreign_keys = ON');
    db.pragma('synchronous = NORMAL');
    // Surfaces a read-only file or a lock held by another program now, with a clear error, not mid-ingest.
    db.exec('BEGIN IMMEDIATE; COMMIT;');

    const backups = new Backups(db, opts.backupDir);
    const from = Number(db.pragma('user_version', { simple: true }));
    if (from > LATEST_SCHEMA_VERSION) {
      throw new EngineError(
        ErrorCodes.unsupported,
        `The database ${file} has schema version ${from}, newer than this app understands (${LATEST_SCHEMA_VERSION}). ` +
          'Update the app.',
      );
    }
    verifyChecksums(db, from);
    let preMigrationBackup: string | null = null;
    if (from > 0 && from < LATEST_SCHEMA_VERSION) {
      preMigrationBackup = await backups.create('pre-migration', `v${from}`);
    }
    for (const m of migrations) {
      if (m.version <= from) continue;
      // Foreign keys can only be switched outside a transaction; a rebuild is checked by hand before commit.
      if (m.rebuildsTables) db.pragma('foreign_keys = OFF');
      try {
        db.transaction(() => {
          db.exec(m.sql);
          if (m.rebuildsTables && (db.pragma('foreign_key_check') as unknown[]).length > 0)
            throw new EngineError(ErrorCodes.databaseCorrupt, `Migration ${m.version} broke references.`);
          db.prepare(
            'INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)',
          ).run(m.version, m.name, checksum(m), new Date().toISOString());
          db.pragma(`user_version = ${m.version}`);
        })();
      } finally {
        if (m.rebuildsTables) db.pragma('foreign_keys = ON');
      }
    }
    const fkProblems = db.pragma('foreign_key_check') as unknown[];
    if (fkProblems.length > 0) {
      throw new EngineError(
        ErrorCodes.databaseCorrupt,
        `The database ${file} has ${fkProblems.length} broken references (foreign_key_check).`,
      );
    }
    return { db, backups, migratedFrom: from, schemaVersion: LATEST_SCHEMA_VERSION, preMigrationBackup };
  } catch (err) {
    db.close();
    throw toEngineError(err, `Opening the database ${file}`);
  }
}

function verifyChecksums(db: Database.Database, applied: number): void {
  if (applied === 0) return;
  const rows = db.prepare('SELECT version, checksum FROM schema_migrations').all() as {
    version: number;
    checksum: string;
  }[];
  const byVersion = new Map(rows.map((r) => [r.version, r.checksum]));
  for (const m of migrations) {
    if (m.version > applied) break;
    const stored = byVersion.get(m.version);
    if (stored !== checksum(m)) {
      throw new EngineError(
        ErrorCodes.databaseCorrupt,
        `Migration ${m.version} (${m.name}) recorded in the database does not match this app's copy.`,
      );
    }
  }
}

/** Full integrity check (slower than quick_check); used by tests and the CLI after a crash. */
export function integrityCheck(db: Database.Database): string[] {
  const rows = db.pragma('integrity_check', { simple: false }) as { integrity_check: string }[];
  return rows.map((r) => r.integrity_check);
}

/**
 * Opens an existing database for reading only (exports, reports) while an engine may be writing to it: WAL
 * lets readers and the writer proceed together. The schema must already be current.
 */
export function openDatabaseReadOnly(file: string): Database.Database {
  if (!existsSync(file)) throw new EngineError(ErrorCodes.notFound, `There is no database at ${file}.`);
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true, timeout: 5000 });
  } catch (err) {
    throw toEngineError(err, `Opening the database ${file}`);
  }
  try {
    const version = Number(db.pragma('user_version', { simple: true }));
    if (version !== LATEST_SCHEMA_VERSION) {
      throw new EngineError(
        ErrorCodes.unsupported,
        `The database ${file} has schema version ${version}; this app reads version ${LATEST_SCHEMA_VERSION}. ` +
          'Start the engine once (eardrum watch or serve) to migrate it.',
      );
    }
    return db;
  } catch (err) {
    db.close();
    throw toEngineError(err, `Opening the database ${file}`);
  }
}
