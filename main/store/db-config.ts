import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { DatabaseDescription } from '../../common/contract.ts';
import { ErrorCodes, postgresUrlSchema } from '../../common/contract.ts';
import { EngineError } from '../util/errors.ts';
import { savedPasswordSchema, writePrivateFileAtomic, type PasswordKeeper } from './db-password.ts';
import { isPostgresUrl } from './pg-pool.ts';

/**
 * The clinic-database choice made in Settings, kept in the data folder rather than in the history itself:
 * which history to open is decided before any history is open, and the SQLite settings tables are copied
 * to the shared store and audited, where a per-workstation secret has no place.
 */
export const DB_CONFIG_FILE = 'database.json';

const dbConfigSchema = z.object({
  version: z.literal(1),
  url: postgresUrlSchema,
  password: savedPasswordSchema,
  /**
   * The library folder the rooms share (photos, thumbnails, heatmaps), chosen with the server; absent: the
   * data folder's own library. Optional, so a file saved before it existed still reads.
   */
  library: z.string().optional(),
  savedAt: z.string(),
});
export type DbConfig = z.infer<typeof dbConfigSchema>;

export function defaultSqliteFile(dataDir: string): string {
  return path.join(dataDir, 'eardrum.sqlite');
}

/** The saved choice, or null when none was saved (this workstation's SQLite file). */
export function readDbConfig(dataDir: string): DbConfig | null {
  const file = path.join(dataDir, DB_CONFIG_FILE);
  if (!existsSync(file)) return null;
  let json: unknown = null;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    // Unreadable or not JSON: refused below like any other content this version does not understand.
  }
  const parsed = dbConfigSchema.safeParse(json);
  // A damaged choice is not read as "no choice": that would open another history without a word.
  if (!parsed.success)
    throw new EngineError(
      ErrorCodes.invalidArgs,
      `${file} is not a clinic-database choice this version can read: choose again in Settings → Clinic ` +
        "database, start with --db, or delete the file to use this workstation's own database.",
    );
  return parsed.data;
}

export function writeDbConfig(dataDir: string, config: Omit<DbConfig, 'version' | 'savedAt'>): DbConfig {
  const full: DbConfig = { version: 1, ...config, savedAt: new Date().toISOString() };
  writePrivateFileAtomic(path.join(dataDir, DB_CONFIG_FILE), `${JSON.stringify(full, null, 2)}\n`);
  return full;
}

export function removeDbConfig(dataDir: string): void {
  rmSync(path.join(dataDir, DB_CONFIG_FILE), { force: true });
}

/** What to open at start, and why. */
export interface StartupDatabase {
  db: string;
  source: 'command_line' | 'saved' | 'default';
  passwordFile?: string;
  password?: string;
}

/**
 * The command line's `--db` wins; else the choice saved in Settings (its password from the keeper, unless
 * `--db-password-file` gives one); else this workstation's SQLite file.
 */
export function startupDatabase(o: {
  dataDir: string;
  keeper: PasswordKeeper;
  cliDb?: string | undefined;
  cliPasswordFile?: string | undefined;
}): StartupDatabase {
  const passwordFile = o.cliPasswordFile ? { passwordFile: o.cliPasswordFile } : {};
  if (o.cliDb) return { db: o.cliDb, source: 'command_line', ...passwordFile };
  const config = readDbConfig(o.dataDir);
  if (!config) return { db: defaultSqliteFile(o.dataDir), source: 'default' };
  if (o.cliPasswordFile) return { db: config.url, source: 'saved', ...passwordFile };
  const password = o.keeper.read(config.password);
  return { db: config.url, source: 'saved', ...(password !== undefined ? { password } : {}) };
}

/** Which image library a start uses, and why; `dir` null: the data folder's own (`<dataDir>/library`). */
export interface StartupLibrary {
  dir: string | null;
  source: 'command_line' | 'saved' | 'default';
}

/**
 * `--library` wins; else the folder saved with the clinic database, as long as that database is the one
 * opening (no `--db`, or a `--db` naming the same server and database): a folder saved for one history is
 * not the images of another; else the data folder's own library.
 */
export function startupLibrary(o: {
  dataDir: string;
  cliLibrary?: string | undefined;
  cliDb?: string | undefined;
}): StartupLibrary {
  if (o.cliLibrary) return { dir: path.resolve(o.cliLibrary), source: 'command_line' };
  const config = readDbConfig(o.dataDir);
  if (config?.library && (!o.cliDb || sameDatabase(o.cliDb, config.url)))
    return { dir: config.library, source: 'saved' };
  return { dir: null, source: 'default' };
}

function sameDatabase(a: string, b: string): boolean {
  try {
    return JSON.stringify(describeDatabase(a)) === JSON.stringify(describeDatabase(b));
  } catch {
    return false;
  }
}

/** A history by what a person recognises: the SQLite file, or PostgreSQL's host, port, database and user. */
export function describeDatabase(db: string): DatabaseDescription {
  if (!isPostgresUrl(db)) return { kind: 'sqlite', file: path.resolve(db) };
  let u: URL;
  try {
    u = new URL(db);
  } catch {
    throw new EngineError(ErrorCodes.invalidArgs, 'That is not a postgres://user@host:port/database URL.');
  }
  // The same reading as pg-pool.ts createPool: a `?host=` (a Unix socket folder) wins over the URL's host.
  const user = decodeURIComponent(u.username);
  return {
    kind: 'postgres',
    host: u.searchParams.get('host') ?? (u.hostname || 'localhost'),
    port: Number(u.port || 5432),
    database: decodeURIComponent(u.pathname.slice(1)) || user,
    user,
  };
}

/** Refuses a URL carrying a password: the password has its own field and is never kept in clear. */
export function checkUrlHasNoPassword(url: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new EngineError(ErrorCodes.invalidArgs, 'That is not a postgres://user@host:port/database URL.');
  }
  if (u.password)
    throw new EngineError(
      ErrorCodes.invalidArgs,
      'Leave the password out of the URL and type it in the password field.',
    );
  if (!u.username)
    throw new EngineError(
      ErrorCodes.invalidArgs,
      'The URL needs a user: postgres://USER@HOST:PORT/DATABASE.',
    );
}
