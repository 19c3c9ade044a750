import type { DatabaseTestResult } from '../../common/contract.ts';
import { DatabaseErrorCodes } from '../../common/contract.ts';
import { checkLibraryFolder } from '../library/library-check.ts';
import { EngineError } from '../util/errors.ts';
import { checkUrlHasNoPassword, describeDatabase } from './db-config.ts';
import { pgConnectFailure, type PgConnectCause } from './pg-errors.ts';
import { PG_LATEST_SCHEMA_VERSION } from './pg-migrations.ts';
import { createPool, redactUrl } from './pg-pool.ts';

/** Settings' codes for each cause: the UI words each one in the reader's language. */
const SETTINGS_CODES: Record<PgConnectCause, string> = {
  wrong_password: DatabaseErrorCodes.wrongPassword,
  no_password: DatabaseErrorCodes.wrongPassword,
  not_allowed: DatabaseErrorCodes.notAllowed,
  missing: DatabaseErrorCodes.missing,
  unreachable: DatabaseErrorCodes.unreachable,
};

/**
 * A PostgreSQL connection failure as one of the causes a person can act on (address, password, permission,
 * database name), worded as `eardrum migrate` words it (pg-errors.ts), or null when it is none of them.
 */
export function classifyConnectError(err: unknown, url: string): EngineError | null {
  if (err instanceof EngineError) return err;
  const known = pgConnectFailure(err, url);
  return known ? new EngineError(SETTINGS_CODES[known.cause], known.text, { cause: err }) : null;
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
