import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import type { Result } from '../../common/contract.ts';
import { ErrorCodes, MAX_IMAGE_BYTES, MAX_REQUEST_BYTES, fail, parseArgs } from '../../common/contract.ts';
import { finishUpload } from '../api/handlers.ts';
import type { Services } from '../services.ts';
import { EngineError, toEngineError } from '../util/errors.ts';
import { streamUploadToFile } from './upload-stream.ts';

/** Reads and throws away a body that will not be used (bounded: larger ones end the connection). */
async function discard(req: IncomingMessage): Promise<void> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > MAX_REQUEST_BYTES) return;
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) return;
  }
}

/**
 * `POST /api/diagnose.upload`: the same channel and arguments as everywhere, but the body is decoded as it
 * arrives into a private temporary file in the library (never held in memory as JSON, string and bytes at
 * once), at most two at a time. The temporary file is removed whatever happens; only an image this app reads
 * is kept, as a library copy.
 */
export async function receiveUpload(s: Services, req: IncomingMessage): Promise<Result<unknown>> {
  const release = s.uploads.tryAcquire();
  if (!release) {
    await discard(req);
    return fail(
      ErrorCodes.tooManyRequests,
      `${s.uploads.max} uploads are already being received; try again in a moment.`,
    );
  }
  const tmp = path.join(s.library.tmpDir, `upload-${randomBytes(8).toString('hex')}.part`);
  try {
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > MAX_REQUEST_BYTES)
      throw new EngineError(
        ErrorCodes.tooLarge,
        `The request body is larger than ${MAX_REQUEST_BYTES} bytes.`,
      );
    const { fields, bytes } = await streamUploadToFile(req, tmp, {
      maxBody: MAX_REQUEST_BYTES,
      maxBytes: MAX_IMAGE_BYTES,
    });
    // The contract checks every field; the streamed one stands in as a non-empty string when it held bytes.
    const args = parseArgs('diagnose.upload', {
      ...fields,
      ...('dataBase64' in fields ? { dataBase64: bytes > 0 ? 'streamed' : '' } : {}),
    });
    if (!args.ok) return args;
    try {
      return { ok: true, value: await finishUpload(s, await readFile(tmp), args.value) };
    } catch (err) {
      const e = toEngineError(err, 'diagnose.upload');
      return fail(e.code, e.message);
    }
  } finally {
    await rm(tmp, { force: true }).catch(() => undefined);
    release();
  }
}
