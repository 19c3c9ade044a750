import { ErrorCodes } from '../../common/contract.ts';
import { EngineError } from '../util/errors.ts';
import { redactUrl } from './pg-pool.ts';

/**
 * A PostgreSQL connection failure in words a clinic's administrator can act on. node-postgres reports them
 * as SQLSTATE codes or socket errors, which say little on their own ("28P01", "ECONNREFUSED").
 */
export function describePgError(err: unknown, url: string): EngineError {
  if (err instanceof EngineError) return err;
  const e = err as { code?: string; message?: string };
  const where = redactUrl(url);
  let host = where;
  let user = '';
  try {
    const u = new URL(url);
    host = `${u.hostname || 'localhost'}:${u.port || 5432}`;
    user = decodeURIComponent(u.username);
  } catch {
    // redactUrl already words an unreadable URL.
  }
  const say = (code: string, text: string) => new EngineError(code, text, { cause: err });
  switch (e?.code) {
    case '28P01':
      return say(
        ErrorCodes.unauthorized,
        `PostgreSQL at ${host} refused the password for "${user}": check the file given with --db-password-file.`,
      );
    case '28000':
      return say(
        ErrorCodes.unauthorized,
        `PostgreSQL at ${host} does not let "${user}" in (pg_hba.conf has no rule for this user and address).`,
      );
    case '3D000':
      return say(ErrorCodes.notFound, `PostgreSQL at ${host} has no database named in ${where}.`);
    case 'ECONNREFUSED':
      return say(
        ErrorCodes.ioError,
        `Nothing answers at ${host}: is PostgreSQL running and listening there?`,
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return say(ErrorCodes.ioError, `The host in ${where} is not known (${e.code}).`);
    case 'ETIMEDOUT':
      return say(ErrorCodes.ioError, `PostgreSQL at ${host} did not answer in time (${e.code}).`);
  }
  if (/password must be a string|no password/i.test(e?.message ?? ''))
    return say(
      ErrorCodes.unauthorized,
      `PostgreSQL at ${host} asks for a password: give it in a file with --db-password-file.`,
    );
  if (/timeout/i.test(e?.message ?? ''))
    return say(ErrorCodes.ioError, `PostgreSQL at ${host} did not answer in time.`);
  return say(ErrorCodes.ioError, `PostgreSQL at ${where}: ${e?.message ?? String(err)}`);
}
