import type { DatabaseTestResult } from '../../common/contract.ts';
import { DatabaseErrorCodes } from '../../common/contract.ts';
import { checkLibraryFolder } from '../library/library-check.ts';
import { EngineError } from '../util/errors.ts';
import { checkUrlHasNoPassword, describeDatabase } from './db-config.ts';
import { PG_LATEST_SCHEMA_VERSION } from './pg-migrations.ts';
import { createPool, redactUrl } from './pg-pool.ts';

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
  'EPIPE',
]);

/**
 * A PostgreSQL connection failure as one of the causes a person can act on (address, password, permission,
 * database name), or null when it is none of them. node-postgres passes the server's SQLSTATE in `code`
 * and the socket's errno for network failures; a server asking for a password when none was given fails
 * in the client's SASL step with a plain Error.
 */
export function classifyConnectError(err: unknown, url: string): EngineError | null {
  if (err instanceof EngineError) return err;
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : String(err);
  const where = redactUrl(url);
  if (code === '28P01' || /SASL|client password must be a string/i.test(message))
    return new EngineError(
      DatabaseErrorCodes.wrongPassword,
      `The server at ${where} refused the password (wrong password for this user).`,
      { cause: err },
    );
  if (code === '28000')
    return new EngineError(
      DatabaseErrorCodes.notAllowed,
      `The server at ${where} does not let this user connect from this computer (${message}).`,
      { cause: err },
    );
  if (code === '3D000')
    return new EngineError(
      DatabaseErrorCodes.missing,
      `The server at ${where} has no database of that name: create it (an empty one) first.`,
      { cause: err },
    );
  if (NETWORK_CODES.has(code) || /timeout|Connection terminated|connect E/i.test(message))
    return new EngineError(
      DatabaseErrorCodes.unreachable,
      `No PostgreSQL answers at ${where} (${code || message}): check the address and port, and that the server is running.`,
      { cause: err },
    );
  return null;
}

/** How many of the newest photos the library check looks for (see library-check.ts). */
const KNOWN_PHOTOS = 5;

/**
 * "Test connection": connects with the given password and reads the schema version, changing nothing (no
 * migration; a newer schema is reported, not refused half-way). One connection, closed before answering.
 * With a `library` folder, also checks that folder against the photos the database already has.
 */
export async function testConnection(
  url: string,
  password: string,
  library?: string,
): Promise<DatabaseTestResult> {
  checkUrlHasNoPassword(url);
  const database = describeDatabase(url);
  const pool = createPool({ url, password, max: 1 });
  try {
    const c = await pool.connect();
    try {
      // "15.14 (Debian 15.14-0+deb12u1)": the number is what a person compares with what they installed.
      const version = (
        await c.query<{ server_version: string }>('SHOW server_version')
      ).rows[0]!.server_version.split(' ')[0]!;
      const hasSchema =
        (await c.query<{ t: string | null }>(`SELECT to_regclass('schema_migrations')::text AS t`)).rows[0]!
          .t !== null;
      let newest = 0;
      if (hasSchema)
        newest =
          (await c.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations')).rows[0]!
            .v ?? 0;
      if (newest > PG_LATEST_SCHEMA_VERSION)
        throw new EngineError(
          DatabaseErrorCodes.schemaNewer,
          `The database at ${redactUrl(url)} has schema ${newest}, newer than this version knows ` +
            `(${PG_LATEST_SCHEMA_VERSION}): update this workstation first.`,
        );
      const schema = newest === 0 ? 'empty' : newest < PG_LATEST_SCHEMA_VERSION ? 'older' : 'current';
      if (library === undefined) return { database, serverVersion: version, schema, library: null };
      const known =
        newest === 0
          ? []
          : (
              await c.query<{ p: string }>(
                `SELECT stored_path AS p FROM images WHERE stored_path IS NOT NULL ORDER BY id DESC LIMIT ${KNOWN_PHOTOS}`,
              )
            ).rows.map((r) => r.p);
      return {
        database,
        serverVersion: version,
        schema,
        library: await checkLibraryFolder(library, known),
      };
    } finally {
      c.release();
    }
  } catch (err) {
    throw classifyConnectError(err, url) ?? err;
  } finally {
    await pool.end().catch(() => undefined);
  }
}
