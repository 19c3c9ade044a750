import type { ServerResponse } from 'node:http';
import type { ErrorInfo } from '../../common/contract.ts';
import { ErrorCodes } from '../../common/contract.ts';

/** JSON answers of the HTTP bridge: every body is a contract `Result`, its HTTP status mirrors the error code. */

const STATUS_OF: Record<string, number> = {
  [ErrorCodes.invalidArgs]: 400,
  [ErrorCodes.unauthorized]: 401,
  [ErrorCodes.forbidden]: 403,
  [ErrorCodes.notFound]: 404,
  [ErrorCodes.unknownChannel]: 404,
  [ErrorCodes.tooLarge]: 413,
  [ErrorCodes.tooManyRequests]: 429,
  // Understood but not possible here (a folder dialog over HTTP, a record without a stored copy).
  [ErrorCodes.unsupported]: 422,
  // Another adaptation is already running.
  [ErrorCodes.busy]: 409,
  [ErrorCodes.modelUnavailable]: 503,
  [ErrorCodes.databaseLocked]: 503,
  [ErrorCodes.databaseUnreachable]: 503,
  [ErrorCodes.diskFull]: 507,
};

export function statusFor(e: ErrorInfo): number {
  // The image, or the clinic database or library folder named in Settings, cannot be used as given.
  if (/^(image|database|library)\./.test(e.code)) return 422;
  return STATUS_OF[e.code] ?? 500;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

export function sendError(res: ServerResponse, code: string, message: string, status?: number): void {
  const error = { code, message };
  if (code === ErrorCodes.tooManyRequests) res.setHeader('Retry-After', '2');
  sendJson(res, status ?? statusFor(error), { ok: false, error });
}

export function sendResult(
  res: ServerResponse,
  result: { ok: true; value: unknown } | { ok: false; error: ErrorInfo },
): void {
  if (!result.ok && result.error.code === ErrorCodes.tooManyRequests) res.setHeader('Retry-After', '2');
  sendJson(res, result.ok ? 200 : statusFor(result.error), result);
}
