import path from 'node:path';
import type Database from 'better-sqlite3';
import type { Logger } from '../util/logger.ts';
import type { Backups } from './backups.ts';
import { openDatabase } from './database.ts';
import { createPool, isPostgresUrl, pgClientConfig, redactUrl } from './pg-pool.ts';
import { PgStore } from './pg-store.ts';
import { SqliteStore } from './sqlite-store.ts';
import type { Store } from './store.ts';

export interface OpenStoreOptions {
  /** A SQLite file, or `postgres://user@host:port/db` for the history shared by several rooms. */
  db: string;
  dataDir: string;
  logger: Logger;
  /** PostgreSQL: the file holding the password. */
  passwordFile?: string;
  /** PostgreSQL: this room's name in claims and change notifications (see paths.ts workstationName). */
  workstation?: string;
  busyTimeoutMs?: number;
}

export interface OpenedStore {
  store: Store;
  /** The file, or the URL without password (safe to log). */
  dbPath: string;
  db: Database.Database | null;
  backups: Backups | null;
}

/** Opens the history the options name: SQLite (migrated, backed up) or PostgreSQL (migrated under a lock). */
export async function openStore(o: OpenStoreOptions): Promise<OpenedStore> {
  if (isPostgresUrl(o.db)) {
    const connect = {
      url: o.db,
      ...(o.passwordFile ? { passwordFile: o.passwordFile } : {}),
      applicationName: o.workstation ?? 'eardrum',
    };
    const pool = createPool(connect);
    try {
      const store = await PgStore.open(pool, o.db, {
        workstation: connect.applicationName,
        listenConfig: pgClientConfig(connect),
      });
      o.logger.info(
        `database ${redactUrl(o.db)} (PostgreSQL, schema ${(await store.health()).schemaVersion})`,
      );
      return { store, dbPath: redactUrl(o.db), db: null, backups: null };
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw err;
    }
  }
  const dbPath = path.resolve(o.db);
  const opened = await openDatabase(dbPath, {
    backupDir: path.join(o.dataDir, 'backups'),
    ...(o.busyTimeoutMs !== undefined ? { busyTimeoutMs: o.busyTimeoutMs } : {}),
  });
  if (opened.preMigrationBackup)
    o.logger.info(`database backed up to ${opened.preMigrationBackup} before migrating`);
  return {
    store: new SqliteStore(opened.db, opened.backups),
    dbPath,
    db: opened.db,
    backups: opened.backups,
  };
}
