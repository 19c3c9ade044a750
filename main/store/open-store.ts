import path from 'node:path';
import type Database from 'better-sqlite3';
import type { Logger } from '../util/logger.ts';
import type { Backups } from './backups.ts';
import { EngineError } from '../util/errors.ts';
import { classifyConnectError } from './db-check.ts';
import { ErrorCodes } from '../../common/contract.ts';
import {
  DB_CONFIG_FILE,
  defaultSqliteFile,
  readDbConfig,
  startupDatabase,
  type StartupDatabase,
} from './db-config.ts';
import type { PasswordKeeper } from './db-password.ts';
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
  /** PostgreSQL: the password itself (kept by Settings); passwordFile wins over it. */
  password?: string;
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
      ...(o.password !== undefined ? { password: o.password } : {}),
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

export interface OpenChosenStoreOptions extends Omit<OpenStoreOptions, 'db' | 'passwordFile' | 'password'> {
  /** `--db`, when given: it wins over the choice saved in Settings. */
  cliDb?: string | undefined;
  cliPasswordFile?: string | undefined;
  keeper: PasswordKeeper;
}

/** The clinic database saved in Settings could not be opened at start (the desktop app offers a way back). */
export class SavedDatabaseError extends EngineError {}

/**
 * Opens the history chosen at start (see db-config.ts `startupDatabase`). A clinic database saved in
 * Settings that cannot be opened stops the start with a sentence saying so: falling back to this
 * workstation's own file would show another history, and its new results would be missing from the clinic's.
 */
export async function openChosenStore(
  o: OpenChosenStoreOptions,
): Promise<OpenedStore & { source: StartupDatabase['source'] }> {
  const { cliDb, cliPasswordFile, keeper, ...rest } = o;
  const saved = !cliDb ? readDbConfig(o.dataDir) : null;
  try {
    const chosen = startupDatabase({ dataDir: o.dataDir, keeper, cliDb, cliPasswordFile });
    const secret = {
      ...(chosen.passwordFile ? { passwordFile: chosen.passwordFile } : {}),
      ...(chosen.password !== undefined ? { password: chosen.password } : {}),
    };
    const opened = await openStore({ ...rest, db: chosen.db, ...secret });
    // Says why this history, so a room on the wrong one can be told from its log.
    if (chosen.source === 'saved')
      o.logger.info(`database chosen in Settings → Clinic database (${DB_CONFIG_FILE}; --db overrides it)`);
    return { ...opened, source: chosen.source };
  } catch (err) {
    if (!saved) throw err;
    const why = classifyConnectError(err, saved.url) ?? (err as Error);
    throw new SavedDatabaseError(
      why instanceof EngineError ? why.code : ErrorCodes.internal,
      `The clinic database chosen in Settings (${redactUrl(saved.url)}) cannot be opened: ${why.message} ` +
        "This workstation does not switch to its own database by itself: start the server, or go back to this workstation's " +
        `database (start once with --db ${defaultSqliteFile(o.dataDir)}, then Settings → Clinic database).`,
      { cause: err },
    );
  }
}
