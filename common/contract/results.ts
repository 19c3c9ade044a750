/**
 * The result envelope every channel answers with, error codes, and the limits both sides share.
 * Part of the API contract: import it from ../contract.ts, which re-exports it.
 */
import { z } from 'zod';

// Result envelope

export const errorInfoSchema = z.object({
  /** Stable machine-readable code (see `ErrorCodes`); the UI maps it to Korean/English text. */
  code: z.string(),
  /** Clear English sentence for logs and as a fallback when the UI has no translation for the code. */
  message: z.string(),
});
export type ErrorInfo = z.infer<typeof errorInfoSchema>;

export type Result<T> = { ok: true; value: T } | { ok: false; error: ErrorInfo };

export function resultSchema<T extends z.ZodType>(value: T) {
  return z.discriminatedUnion('ok', [
    z.object({ ok: z.literal(true), value }),
    z.object({ ok: z.literal(false), error: errorInfoSchema }),
  ]);
}

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail(code: string, message: string): { ok: false; error: ErrorInfo } {
  return { ok: false, error: { code, message } };
}

/** Codes the engine and bridge produce. Image input problems are `image.<code>` (empty, not_image, ...). */
export const ErrorCodes = {
  invalidArgs: 'invalid_args',
  notFound: 'not_found',
  unauthorized: 'unauthorized',
  forbidden: 'forbidden',
  tooLarge: 'too_large',
  /** Too many at once (uploads): try again shortly; HTTP answers 429 with `Retry-After`. */
  tooManyRequests: 'too_many_requests',
  unsupported: 'unsupported',
  unknownChannel: 'unknown_channel',
  modelUnavailable: 'model_unavailable',
  readOnly: 'read_only',
  diskFull: 'disk_full',
  databaseLocked: 'database_locked',
  databaseCorrupt: 'database_corrupt',
  /** The clinic's PostgreSQL cannot be reached (stopped, restarting, network down): try again shortly. */
  databaseUnreachable: 'database_unreachable',
  /** Results kept while the database was unreachable that it then refused (set aside, retried at next start). */
  databaseRefused: 'database_refused',
  ioError: 'io_error',
  cancelled: 'cancelled',
  /** Another long job (adapting the model) is running or waiting for a decision. */
  busy: 'busy',
  internal: 'internal',
} as const;

/** Image input errors from the classifier, prefixed `image.` in `ErrorInfo.code`. */
export const imageErrorCodeSchema = z.enum([
  'empty',
  'not_image',
  'corrupt',
  'too_large',
  'too_small',
  'unsupported',
]);
export type ImageErrorCode = z.infer<typeof imageErrorCodeSchema>;

// ---------------------------------------------------------------------------------------------------------
// Limits shared by both sides (the UI checks early, the engine enforces)

/** Largest image accepted by hand upload or from the watched folder. */
export const MAX_IMAGE_BYTES = 25 * 1024 * 1024;
/** Largest JSON request body on the HTTP bridge (base64 of MAX_IMAGE_BYTES plus room for the rest). */
export const MAX_REQUEST_BYTES = Math.ceil((MAX_IMAGE_BYTES * 4) / 3) + 64 * 1024;
export const MAX_PAGE_LIMIT = 500;
