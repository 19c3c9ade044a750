import { readFileSync } from 'node:fs';
import pg from 'pg';
import { ErrorCodes } from '../../common/contract.ts';
import { EngineError } from '../util/errors.ts';
import type { Connectable } from './pg-gate.ts';
import { MIGRATION_LOCK_KEY, PG_LATEST_SCHEMA_VERSION, pgChecksum, pgMigrations } from './pg-migrations.ts';

export type Queryable = pg.Pool | pg.PoolClient;

/** bigint (count(*), sizes, ms times) as a JavaScript number: every such value here is far below 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export interface PgConnectOptions {
  /** `postgres://user@host:port/db`: a password in the URL is refused (it would show in process lists). */
  url: string;
  /** A file holding the password (first line); never logged, never stored. */
  passwordFile?: string;
  /** The password itself (Settings: decrypted from the keychain); a passwordFile wins over it. */
  password?: string;
  /** Connections in the pool. */
  max?: number;
  /**
   * Names this workstation to the server (`application_name`): the change notifications' triggers read it,
   * so a room can tell its own changes (already announced locally) from other rooms'.
   */
  applicationName?: string;
}

/** The URL without any password, for logs and the status bar. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    return u.toString();
  } catch {
    return 'postgres://(unreadable URL)';
  }
}

export function isPostgresUrl(s: string | undefined): s is string {
  return !!s && /^postgres(ql)?:\/\//i.test(s);
}

export function readPasswordFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new EngineError(
      ErrorCodes.ioError,
      `Reading the database password file ${file}: ${(err as Error).message}`,
    );
  }
  return text.split(/\r?\n/)[0]!;
}

/** node-postgres settings for one connection to the URL (the pool's and the change listener's). */
export function pgClientConfig(o: PgConnectOptions): pg.ClientConfig {
  let u: URL;
  try {
    u = new URL(o.url);
  } catch {
    throw new EngineError(ErrorCodes.invalidArgs, `"${redactUrl(o.url)}" is not a PostgreSQL URL.`);
  }
  if (u.password)
    throw new EngineError(
      ErrorCodes.invalidArgs,
      'Put the database password in a file (--db-password-file), not in the URL.',
    );
  // Fields rather than node-postgres' connectionString, whose parsed fields would override the password.
  const ssl = u.searchParams.get('sslmode');
  return {
    host: u.searchParams.get('host') ?? (u.hostname || 'localhost'),
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username),
    database: decodeURIComponent(u.pathname.slice(1)) || decodeURIComponent(u.username),
    ...(ssl && ssl !== 'disable' ? { ssl: { rejectUnauthorized: ssl === 'verify-full' } } : {}),
    ...(o.passwordFile
      ? { password: readPasswordFile(o.passwordFile) }
      : o.password !== undefined
        ? { password: o.password }
        : {}),
    ...(o.applicationName ? { application_name: o.applicationName.slice(0, 63) } : {}),
    connectionTimeoutMillis: 5000,
    types,
  };
}

export function createPool(o: PgConnectOptions): pg.Pool {
  const pool = new pg.Pool({ ...pgClientConfig(o), max: o.max ?? 4 });
  // An idle connection dropped by a server restart must not crash the process: the next query reconnects.
  pool.on('error', () => undefined);
  return pool;
}

/**
 * A server shutting down may end a checked-out connection between two statements, when no query is there to
 * hear it: node-postgres then emits 'error', which with no listener would crash the process. Heard here, the
 * next statement fails instead (the caller's to handle), and the pool drops the dead connection on release.
 */
const heard = (): void => undefined;

/** Checks a connection out of the pool with that guard; `release` takes the guard off and gives it back. */
export async function checkOut(pool: Connectable): Promise<{ client: pg.PoolClient; release: () => void }> {
  const client = await pool.connect();
  client.on('error', heard);
  return {
    client,
    release: () => {
      client.off('error', heard);
      client.release();
    },
  };
}

/** Runs `fn` in one transaction on one connection; rolled back on any error. */
export async function inTransaction<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const { client: c, release } = await checkOut(pool);
  try {
    await c.query('BEGIN');
    const out = await fn(c);
    await c.query('COMMIT');
    return out;
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    release();
  }
}

/** `@name` parameters (the filters' form, shared with SQLite) as PostgreSQL's `$n`. */
export function positional(
  sql: string,
  params: Record<string, unknown>,
): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const index = new Map<string, number>();
  const text = sql.replace(/@([A-Za-z_][A-Za-z0-9_]*)/g, (_, name: string) => {
    let i = index.get(name);
    if (i === undefined) {
      values.push(params[name]);
      index.set(name, (i = values.length));
    }
    return `$${i}`;
  });
  return { text, values };
}

/**
 * Applies the numbered migrations under an advisory lock, so workstations starting together migrate one
 * after the other (the second finds the work done). Checksums of applied migrations are verified; a
 * database migrated by a newer version is refused. Returns the schema version.
 */
export async function migratePg(pool: Connectable): Promise<number> {
  const { client: c, release } = await checkOut(pool);
  try {
    await c.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await c.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)`);
      const applied = (
        await c.query<{ version: number; checksum: string }>(
          'SELECT version, checksum FROM schema_migrations ORDER BY version',
        )
      ).rows;
      const newest = applied.at(-1)?.version ?? 0;
      if (newest > PG_LATEST_SCHEMA_VERSION)
        throw new EngineError(
          ErrorCodes.databaseCorrupt,
          `The shared database has schema ${newest}, newer than this version knows (${PG_LATEST_SCHEMA_VERSION}): update this workstation.`,
        );
      for (const a of applied) {
        const m = pgMigrations.find((x) => x.version === a.version);
        if (m && pgChecksum(m) !== a.checksum)
          throw new EngineError(
            ErrorCodes.databaseCorrupt,
            `Migration ${a.version} of the shared database differs from this version's.`,
          );
      }
      for (const m of pgMigrations.filter((x) => x.version > newest)) {
        await c.query('BEGIN');
        try {
          await c.query(m.sql);
          await c.query(
            'INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)',
            [m.version, m.name, pgChecksum(m), new Date().toISOString()],
          );
          await c.query('COMMIT');
        } catch (err) {
          await c.query('ROLLBACK').catch(() => undefined);
          throw err;
        }
      }
      return Math.max(newest, PG_LATEST_SCHEMA_VERSION);
    } finally {
      await c.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    }
  } finally {
    release();
  }
}
