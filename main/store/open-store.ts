import path from 'node:path';
import type Database from 'better-sqlite3';
import type { Logger } from '../util/logger.ts';
import type { Backups } from './backups.ts';
import { EngineError, isDatabaseUnreachable, toEngineError } from '../util/errors.ts';
import { classifyConnectError } from './db-check.ts';
import { ErrorCodes, type Settings } from '../../common/contract.ts';
import {
  DB_CONFIG_FILE,
  defaultSqliteFile,
  readDbConfig,
  startupDatabase,
  type StartupDatabase,
} from './db-config.ts';
import type { PasswordKeeper } from './db-password.ts';
import { openDatabase } from './database.ts';
import { Outbox } from './outbox.ts';
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
  /**
   * PostgreSQL: opens the local queue (outbox.sqlite in the data folder) with it, and starts while the
   * server is unreachable when that queue remembers working on this same database (the engine's start).
   */
  localQueue?: boolean;
}

export interface OpenedStore {
  store: Store;
  /** The file, or the URL without password (safe to log). */
  dbPath: string;
  db: Database.Database | null;
  backups: Backups | null;
  /** The local queue, when `localQueue` was asked for on PostgreSQL. */
  outbox: Outbox | null;
  /** Started while the server was unreachable: the settings this workstation last used. */
  away: { settings: Settings } | null;
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
    const outbox = o.localQueue ? new Outbox(path.join(o.dataDir, 'outbox.sqlite')) : null;
    const database = redactUrl(o.db);
    // The listener's last snapshot heard in full, kept in the local queue; read back only by a start while
    // the server is away (a start that reaches it loads its views from the history as it is).
    const heard = (since: string | null) =>
      outbox ? { heard: { since, keep: (s: string) => outbox.rememberHeard(database, s) } } : {};
    const shared = { workstation: connect.applicationName, listenConfig: pgClientConfig(connect) };
    try {
      let store: PgStore;
      let away: OpenedStore['away'] = null;
      try {
        store = await PgStore.open(pool, o.db, { ...shared, ...heard(null) });
      } catch (err) {
        const last = isDatabaseUnreachable(err) ? outbox?.lastDatabase() : null;
        if (!last) throw unreachableFirst(err, o.db);
        if (last.database !== database) throw unreachableFirst(err, o.db, last.database);
        const since = outbox?.lastHeard(database) ?? null;
        store = await PgStore.open(
          pool,
          o.db,
          { ...shared, ...heard(since) },
          { schemaVersion: last.schemaVersion },
        );
        away = { settings: last.settings };
        o.logger.warn(
          `database ${redactUrl(o.db)} cannot be reached (${toEngineError(err, 'connecting').message}); ` +
            `starting with the settings of ${last.at} and keeping results locally until it answers`,
        );
      }
      o.logger.info(
        `database ${redactUrl(o.db)} (PostgreSQL, schema ${(await store.health()).schemaVersion})`,
      );
      return { store, dbPath: redactUrl(o.db), db: null, backups: null, outbox, away };
    } catch (err) {
      outbox?.close();
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
    outbox: null,
    away: null,
  };
}

/**
 * A server this workstation never worked on (or another one than it last did) that cannot be reached
 * stops the start: a mistyped address or port must be said, not taken for a server that is restarting.
 * Anything that is not "unreachable" (a refused password, a missing database, a newer schema) stops it as is.
 */
function unreachableFirst(err: unknown, url: string, last?: string): unknown {
  if (!isDatabaseUnreachable(err)) return err;
  const why = classifyConnectError(err, url) ?? toEngineError(err, `Connecting to ${redactUrl(url)}`);
  const lastOne = last ? ` (it last worked on ${last})` : '';
  return new EngineError(
    why.code,
    `${why.message} This workstation has not worked on this database before${lastOne}, so it does not start ` +
      'without it; once it has, a start while the server is away keeps its results locally.',
    { cause: err },
  );
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
