/**
 * Which history this workstation uses: its own SQLite file, or the clinic's PostgreSQL shared by several
 * rooms, with the library folder they share for the images (Settings → Clinic database). Part of the API contract: import it from ../contract.ts.
 * A password travels only in the arguments of `database.test` and `database.use`, never in an answer.
 */
import { z } from 'zod';

/** Failures of connecting to a clinic database, each with its own sentence in the UI. */
export const DatabaseErrorCodes = {
  /** No server answers at that address (wrong host or port, server down, network). */
  unreachable: 'database.unreachable',
  wrongPassword: 'database.wrong_password',
  /** The server refuses this user from this computer whatever the password (pg_hba.conf). */
  notAllowed: 'database.not_allowed',
  /** The server answers but has no database of that name. */
  missing: 'database.missing',
  /** The database was set up by a newer version of the app: this workstation must be updated first. */
  schemaNewer: 'database.schema_newer',
  /** The saved password cannot be read here (saved by the desktop app in its keychain, or its file is gone). */
  passwordUnavailable: 'database.password_unavailable',
} as const;

/**
 * Failures of the shared library folder chosen beside the clinic database (photos, thumbnails and heatmaps
 * every room reads), found by "Test connection" before the choice is saved.
 */
export const LibraryErrorCodes = {
  /** Not there, or not a folder: the share is not mounted, or the path is mistyped. */
  missing: 'library.missing',
  /** This account cannot create and remove a file in it. */
  notWritable: 'library.not_writable',
  /** It holds the clinic's photos, but this account may not read them (not in the library's group). */
  notReadable: 'library.not_readable',
  /** The database has photos and none of them is in this folder: another share is mounted there. */
  wrongShare: 'library.wrong_share',
} as const;

/** A folder given in full (POSIX, a Windows drive or a UNC path): the screen cannot resolve a relative one. */
export const libraryDirSchema = z
  .string()
  .trim()
  .min(1)
  .max(4096)
  .regex(/^(\/|[A-Za-z]:[\\/]|\\\\)[^\0]*$/, 'a folder path given in full');

/** `postgres://user@host:port/db`; the password is given apart, never in the URL. */
export const postgresUrlSchema = z
  .string()
  .trim()
  .max(2000)
  .regex(/^postgres(ql)?:\/\/[^\s]+$/i, 'a postgres://user@host:port/database URL');

/**
 * A password as typed; may be empty for servers that trust this computer. One line: the password file keeps
 * the first line only, so a line break would be a different password at the next start.
 */
export const databasePasswordSchema = z
  .string()
  .max(1024)
  .regex(/^[^\r\n]*$/, 'a password on one line');

/** A history, described without any secret. */
export const databaseDescriptionSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('sqlite'), file: z.string() }),
  z.object({
    kind: z.literal('postgres'),
    host: z.string(),
    port: z.number().int(),
    database: z.string(),
    user: z.string(),
  }),
]);
export type DatabaseDescription = z.infer<typeof databaseDescriptionSchema>;

/** A library folder; `shared: false` is this workstation's own (in its data folder, private to it). */
export const libraryDescriptionSchema = z.object({ dir: z.string(), shared: z.boolean() });
export type LibraryDescription = z.infer<typeof libraryDescriptionSchema>;

export const databaseStatusSchema = z.object({
  /** The history in use now. */
  current: databaseDescriptionSchema,
  /** Why it is in use: the command line's `--db`, the choice saved in Settings, or the default. */
  source: z.enum(['command_line', 'saved', 'default']),
  /** What the next start uses when no `--db` is given. */
  next: databaseDescriptionSchema,
  /**
   * Where a password saved now is kept: the operating system's keychain (desktop app, encrypted with
   * Electron's safeStorage) or a file readable only by this account in the data folder (`passwordFile`).
   */
  passwordKept: z.enum(['keychain', 'file']),
  passwordFile: z.string(),
  /**
   * The image library: in use now (and why: `--library`, the folder saved with the clinic database, or the
   * data folder's own), and what the next start uses when no `--library` is given.
   */
  library: z.object({
    current: libraryDescriptionSchema,
    source: z.enum(['command_line', 'saved', 'default']),
    next: libraryDescriptionSchema,
  }),
});
export type DatabaseStatus = z.infer<typeof databaseStatusSchema>;

export const databaseTestArgsSchema = z.object({
  url: postgresUrlSchema,
  password: databasePasswordSchema,
  /** The shared library folder to check with it; absent: this workstation keeps its own library. */
  library: libraryDirSchema.optional(),
});

export const databaseTestResultSchema = z.object({
  database: databaseDescriptionSchema,
  /** The server's version number, e.g. "15.8" (`server_version` without the packager's suffix). */
  serverVersion: z.string(),
  /** `empty`: set up at the first start; `older`: migrated at the next start; `current`: ready. */
  schema: z.enum(['empty', 'older', 'current']),
  /**
   * The library folder, when one was given: there and writable, and `found` one of the photos the database
   * already has (`none_yet`: the database has none to look for).
   */
  library: z.object({ dir: z.string(), photos: z.enum(['found', 'none_yet']) }).nullable(),
});
export type DatabaseTestResult = z.infer<typeof databaseTestResultSchema>;

/** "Use at next start" (tested again before it is saved) or "Back to this workstation's database". */
export const databaseUseArgsSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('postgres'),
    url: postgresUrlSchema,
    password: databasePasswordSchema,
    /** Saved with the server and used from the next start unless `--library` says otherwise. */
    library: libraryDirSchema.optional(),
  }),
  z.object({ kind: z.literal('sqlite') }),
]);
