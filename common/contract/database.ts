/**
 * Which history this workstation uses: its own SQLite file, or the clinic's PostgreSQL shared by several
 * rooms (Settings → Clinic database). Part of the API contract: import it from ../contract.ts.
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
});
export type DatabaseStatus = z.infer<typeof databaseStatusSchema>;

export const databaseTestArgsSchema = z.object({
  url: postgresUrlSchema,
  password: databasePasswordSchema,
});

export const databaseTestResultSchema = z.object({
  database: databaseDescriptionSchema,
  /** The server's version number, e.g. "15.8" (`server_version` without the packager's suffix). */
  serverVersion: z.string(),
  /** `empty`: set up at the first start; `older`: migrated at the next start; `current`: ready. */
  schema: z.enum(['empty', 'older', 'current']),
});
export type DatabaseTestResult = z.infer<typeof databaseTestResultSchema>;

/** "Use at next start" (tested again before it is saved) or "Back to this workstation's database". */
export const databaseUseArgsSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('postgres'), url: postgresUrlSchema, password: databasePasswordSchema }),
  z.object({ kind: z.literal('sqlite') }),
]);
