import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Ear, Settings } from '../../../common/contract.ts';
import { ErrorCodes, MAX_IMAGE_BYTES } from '../../../common/contract.ts';
import {
  IMAGE_EXTENSIONS,
  UNSUPPORTED_EXTENSIONS,
  admissionFailure,
  looksComplete,
  sniffFormat,
} from '../../library/image-probe.ts';
import type { QueuedPhoto } from '../../store/outbox.ts';
import type { NewImage, Store } from '../../store/store.ts';
import { EngineError } from '../../util/errors.ts';
import type { StableFile } from '../stabilizer.ts';
import type { IngestItem, PhotoSources, Stored } from './photo-sources.ts';

/**
 * Admitting a watched file: stored (see Stored), kept in the local queue while the database is unreachable,
 * not ours or already known, or not finished yet.
 */
export type Admitted =
  | Stored
  | { kind: 'queued'; entryId: number; photo: QueuedPhoto }
  | { kind: 'skipped' }
  | { kind: 'unfinished' };

/** What a hand upload brings beside its bytes. */
export interface UploadMeta {
  fileName: string;
  patientId?: string | null;
  ear?: Ear;
}

/** The local queue admission writes to while the database is unreachable (stages/catch-up.ts). */
export type LocalQueue = (photo: QueuedPhoto) => Admitted;

export interface AdmitStageOptions {
  store: Store;
  sources: PhotoSources;
  settings(): Settings;
  /** A JPEG/PNG without its end marker is given this long after its last change to be completed (ms). */
  incompleteGraceMs: number;
}

/**
 * Admission: a file whose writer has finished (or a hand upload) is read, judged by its name and first
 * bytes, and handed to PhotoSources to become a record. Files too large are hashed as a stream and recorded
 * as such without being loaded; files neither named like an image nor holding one are not ours.
 */
export class AdmitStage {
  constructor(private readonly o: AdmitStageOptions) {}

  /** `queue`: the database is unreachable; what the file came to is written later (its source checked then). */
  async file(f: StableFile, queue?: LocalQueue): Promise<Admitted> {
    if (!queue && (await this.o.store.knownSource(f.path, f.size, f.mtimeMs)) !== null)
      return { kind: 'skipped' };
    const ext = path.extname(f.path).toLowerCase();
    const namedLikeImage = IMAGE_EXTENSIONS.has(ext) || UNSUPPORTED_EXTENSIONS.has(ext);
    if (f.size > MAX_IMAGE_BYTES) {
      // Only what is named like an image, or starts like one: a large video or archive is not ours.
      if (namedLikeImage || (await startsLikeImage(f.path))) return this.tooLarge(f, queue);
      return { kind: 'skipped' };
    }
    let bytes: Buffer;
    try {
      bytes = await readFile(f.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'skipped' }; // moved away meanwhile
      throw err;
    }
    const format = sniffFormat(bytes.subarray(0, 32));
    if (!namedLikeImage && format === null) return { kind: 'skipped' };
    // Still being written with pauses longer than the stability window: look again later.
    if (format !== null && !looksComplete(bytes, format) && Date.now() - f.mtimeMs < this.o.incompleteGraceMs)
      return { kind: 'unfinished' };
    const item: IngestItem = {
      fileName: path.basename(f.path),
      originalPath: f.path,
      relative: this.relativeToWatch(f.path),
      source: 'watch' as const,
      mtimeMs: f.mtimeMs,
      format,
      failure: admissionFailure(bytes, ext, format, 'watch') ?? undefined,
      stable: f,
    };
    return queue ? queue(await this.o.sources.prepare(bytes, item)) : this.o.sources.store(bytes, item);
  }

  /**
   * A hand upload: refused with the reason (nothing kept) unless it is an image this app reads. `queue`:
   * the database is unreachable; it is copied into the library and kept in the local queue.
   */
  upload(bytes: Buffer, o: UploadMeta): Promise<Stored>;
  upload(bytes: Buffer, o: UploadMeta, queue: LocalQueue): Promise<Admitted>;
  async upload(bytes: Buffer, o: UploadMeta, queue?: LocalQueue): Promise<Admitted> {
    if (bytes.length > MAX_IMAGE_BYTES) {
      throw new EngineError(
        ErrorCodes.tooLarge,
        `The image is ${(bytes.length / 1048576).toFixed(1)} MB; images up to ${MAX_IMAGE_BYTES / 1048576} MB are accepted.`,
      );
    }
    const format = sniffFormat(bytes.subarray(0, 32));
    const failure = admissionFailure(bytes, '', format, 'upload');
    if (failure) throw new EngineError(failure.code, failure.message);
    const fileName = path.basename(o.fileName.replace(/\\/g, '/')) || 'upload';
    const item: IngestItem = {
      fileName,
      originalPath: `upload:${fileName}`,
      relative: fileName,
      source: 'upload',
      mtimeMs: Date.now(),
      format,
      failure: undefined,
      ...(o.patientId !== undefined ? { patientId: o.patientId } : {}),
      ...(o.ear !== undefined ? { ear: o.ear } : {}),
    };
    return queue ? queue(await this.o.sources.prepare(bytes, item)) : this.o.sources.store(bytes, item);
  }

  private relativeToWatch(file: string): string {
    const dir = this.o.settings().watchDir;
    if (!dir) return path.basename(file);
    const rel = path.relative(dir, file);
    return rel.startsWith('..') || path.isAbsolute(rel) ? path.basename(file) : rel;
  }

  /** Hashes a file too large to accept without reading it into memory, and records the failure. */
  private async tooLarge(f: StableFile, queue?: LocalQueue): Promise<Admitted> {
    const hash = createHash('sha256');
    await new Promise<void>((resolve, reject) => {
      createReadStream(f.path)
        .on('data', (c) => hash.update(c))
        .on('end', () => resolve())
        .on('error', reject);
    });
    const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
    const failure = {
      code: 'image.too_large',
      message: `The file is ${mb(f.size)}; images up to ${mb(MAX_IMAGE_BYTES)} are accepted.`,
    };
    const relative = this.relativeToWatch(f.path);
    const parsed = await this.o.sources.parseName(relative);
    const image: NewImage = {
      sha256: hash.digest('hex'),
      fileName: path.basename(f.path),
      originalPath: f.path,
      source: 'watch',
      storedPath: null,
      thumbPath: null,
      sizeBytes: f.size,
      width: null,
      height: null,
      format: null,
      capturedAt: parsed.capturedAt ?? new Date(f.mtimeMs).toISOString(),
      captureSource: parsed.capturedAt ? 'name' : 'mtime',
      patientId: parsed.patientId,
      ear: parsed.ear,
      patientSource: parsed.matched ? 'pattern' : 'none',
      sourceFile: { path: f.path, size: f.size, mtimeMs: f.mtimeMs },
      failure,
    };
    if (queue) return queue({ image, relative });
    const { id } = await this.o.store.insertImage(image);
    return { kind: 'failed', recordId: id, failure };
  }
}

async function startsLikeImage(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const head = Buffer.alloc(32);
    const { bytesRead } = await fh.read(head, 0, 32, 0);
    return sniffFormat(head.subarray(0, bytesRead)) !== null;
  } finally {
    await fh.close();
  }
}
