import { ErrorCodes } from '../../common/contract.ts';
import { EngineError } from '../util/errors.ts';
import { redactUrl } from './pg-pool.ts';

/** The causes of a failed connection that a person can act on. */
export type PgConnectCause = 'wrong_password' | 'no_password' | 'not_allowed' | 'missing' | 'unreachable';

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
 * A PostgreSQL connection failure as its cause and a sentence saying it, or null when it is none of those
 * causes. The one wording for Settings → Clinic database (db-check.ts) and `eardrum migrate` (below), which
 * differ only in their error codes and in the CLI's flag hints. node-postgres passes the server's SQLSTATE
 * in `code` and the socket's errno for network failures, which say little on their own ("28P01",
 * "ECONNREFUSED"); a server asking for a password when none was given fails in the client's SASL step with
 * a plain Error.
 */
export function pgConnectFailure(err: unknown, url: string): { cause: PgConnectCause; text: string } | null {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : String(err);
  const where = redactUrl(url);
  let host = where;
  let user = '';
  let database = '';
  try {
    const u = new URL(url);
    host = `${u.hostname || 'localhost'}:${u.port || 5432}`;
    user = decodeURIComponent(u.username);
    database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  } catch {
    // redactUrl already words an unreadable URL.
  }
  if (code === '28P01')
    return { cause: 'wrong_password', text: `PostgreSQL at ${host} refused the password for "${user}".` };
  if (code === '28000')
    return {
      cause: 'not_allowed',
      text: `PostgreSQL at ${host} does not let "${user}" connect from this computer (pg_hba.conf has no rule for this user and address).`,
    };
  if (code === '3D000')
    return {
      cause: 'missing',
      text: `PostgreSQL at ${host} has no database "${database}": create it (an empty one) first, or check the name.`,
    };
  if (/SASL|password must be a string|no password/i.test(message))
    return {
      cause: 'no_password',
      text: `PostgreSQL at ${host} asks for a password for "${user}", and none was given.`,
    };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return {
      cause: 'unreachable',
      text: `No PostgreSQL answers at ${host}: that host is not known (${code}); check the address.`,
    };
  if (code === 'ETIMEDOUT' || /timeout/i.test(message))
    return {
      cause: 'unreachable',
      text: `No PostgreSQL answers at ${host} in time (${code || message}): check the address and port, and that the server is running.`,
    };
  if (NETWORK_CODES.has(code) || /Connection terminated|connect E/i.test(message))
    return {
      cause: 'unreachable',
      text: `No PostgreSQL answers at ${host} (${code || message}): check the address and port, and that the server is running.`,
    };
  return null;
}

const CLI_CODES: Record<PgConnectCause, string> = {
  wrong_password: ErrorCodes.unauthorized,
  no_password: ErrorCodes.unauthorized,
  not_allowed: ErrorCodes.unauthorized,
  missing: ErrorCodes.notFound,
  unreachable: ErrorCodes.ioError,
};

/** What the command line adds: where its password comes from. */
const CLI_HINTS: Partial<Record<PgConnectCause, string>> = {
  wrong_password: ' Check the file given with --db-password-file.',
  no_password: ' Give it in a file with --db-password-file.',
};

/** A PostgreSQL failure of `eardrum migrate` in words a clinic's administrator can act on. */
export function describePgError(err: unknown, url: string): EngineError {
  if (err instanceof EngineError) return err;
  const known = pgConnectFailure(err, url);
  if (known)
    return new EngineError(CLI_CODES[known.cause], known.text + (CLI_HINTS[known.cause] ?? ''), {
      cause: err,
    });
  const message = (err as { message?: unknown })?.message;
  return new EngineError(
    ErrorCodes.ioError,
    `PostgreSQL at ${redactUrl(url)}: ${typeof message === 'string' ? message : String(err)}`,
    { cause: err },
  );
}
