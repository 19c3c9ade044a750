import type { ErrorInfo } from '../../common/contract.ts';
import { ErrorCodes } from '../../common/contract.ts';

/** An error the engine expects and can explain: it carries a stable code for the UI and a clear message. */
export class EngineError extends Error {
  override readonly name = 'EngineError';
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const FS_CODES: Record<string, { code: string; what: string }> = {
  ENOSPC: { code: ErrorCodes.diskFull, what: 'the disk is full' },
  EDQUOT: { code: ErrorCodes.diskFull, what: 'the disk quota is exhausted' },
  EROFS: { code: ErrorCodes.readOnly, what: 'the file system is read-only' },
  EACCES: { code: ErrorCodes.readOnly, what: 'permission denied' },
  EPERM: { code: ErrorCodes.readOnly, what: 'operation not permitted' },
  ENOENT: { code: ErrorCodes.notFound, what: 'no such file or folder' },
  ENOTDIR: { code: ErrorCodes.ioError, what: 'a part of the path is not a folder' },
  EBUSY: { code: ErrorCodes.ioError, what: 'the file is busy' },
  EIO: { code: ErrorCodes.ioError, what: 'an input/output error' },
};

/** Socket failures: the server is stopped, restarting, or the network between is down. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'EPIPE',
  'EAI_AGAIN',
]);

/**
 * Whether a database error means "the server cannot be reached now" (worth keeping the work and trying again
 * later) rather than a refusal of what was asked (a constraint, a bug: retrying would fail the same way).
 * PostgreSQL's class 08 (connection exception) and 57P01–57P03 (shutting down, restarting, not yet
 * accepting connections), the sockets' refusals and resets, and node-postgres' own messages for a
 * connection lost mid-query or a connect that timed out (they carry no code).
 */
export function isDatabaseUnreachable(err: unknown): boolean {
  if (err instanceof EngineError) return err.code === ErrorCodes.databaseUnreachable;
  const e = err as { code?: unknown; message?: unknown; syscall?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (NETWORK_CODES.has(code)) return true;
  // A Unix socket that is gone while the server is down.
  if (code === 'ENOENT' && e?.syscall === 'connect') return true;
  if (/^08[0-9A-Z]{3}$/.test(code) || code === '57P01' || code === '57P02' || code === '57P03') return true;
  const message = typeof e?.message === 'string' ? e.message : '';
  return /^Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection terminated due to connection timeout/.test(
    message,
  );
}

/** Maps file-system and SQLite errors to our codes; `context` says what we were doing ("writing X"). */
export function toEngineError(err: unknown, context: string): EngineError {
  if (err instanceof EngineError) return err;
  const e = err as { code?: string; message?: string };
  const code = typeof e?.code === 'string' ? e.code : '';
  // A socket reset on its own may be a browser leaving the HTTP bridge: only a failed connect, or what
  // PostgreSQL and node-postgres say, is told as the database being away.
  const socketOnly = NETWORK_CODES.has(code) && (err as { syscall?: unknown }).syscall !== 'connect';
  if (isDatabaseUnreachable(err) && !socketOnly)
    return new EngineError(
      ErrorCodes.databaseUnreachable,
      `${context}: the clinic database cannot be reached (${code || (e?.message ?? '')})`,
      { cause: err },
    );
  const fsCode = FS_CODES[code];
  if (fsCode) return new EngineError(fsCode.code, `${context}: ${fsCode.what} (${code})`, { cause: err });
  if (code.startsWith('SQLITE_')) {
    if (code === 'SQLITE_FULL')
      return new EngineError(ErrorCodes.diskFull, `${context}: the disk is full`, { cause: err });
    if (
      code.startsWith('SQLITE_READONLY') ||
      code === 'SQLITE_CANTOPEN' ||
      code.startsWith('SQLITE_CANTOPEN')
    )
      return new EngineError(
        code === 'SQLITE_CANTOPEN' ? ErrorCodes.ioError : ErrorCodes.readOnly,
        `${context}: the database cannot be written (${code}: ${e.message ?? ''})`,
        { cause: err },
      );
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
      return new EngineError(
        ErrorCodes.databaseLocked,
        `${context}: the database is locked by another program (${code})`,
        { cause: err },
      );
    if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB')
      return new EngineError(
        ErrorCodes.databaseCorrupt,
        `${context}: the database file is damaged (${code})`,
        {
          cause: err,
        },
      );
    if (code.startsWith('SQLITE_IOERR'))
      return new EngineError(ErrorCodes.ioError, `${context}: disk input/output error (${code})`, {
        cause: err,
      });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new EngineError(ErrorCodes.internal, `${context}: ${message}`, { cause: err });
}

export function toErrorInfo(err: unknown, context = 'Unexpected error'): ErrorInfo {
  const e = toEngineError(err, context);
  return { code: e.code, message: e.message };
}
