import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Ear, ErrorInfo, Settings } from '../../../common/contract.ts';
import { EXTENSION_OF, probeImage, type SniffedFormat } from '../../library/image-probe.ts';
import { ImageLibrary } from '../../library/library.ts';
import type { QueuedPhoto } from '../../store/outbox.ts';
import type { NewImage, NewSource, Store } from '../../store/store.ts';
import type { Logger } from '../../util/logger.ts';
import type { ParsedName } from '../file-name-pattern.ts';
import type { PatternMatcher } from '../pattern-matcher.ts';
import type { StableFile } from '../stabilizer.ts';

/** One file (watched or uploaded) on its way into the store. */
export interface IngestItem {
  fileName: string;
  originalPath: string;
  /** Path relative to the watched folder (what the file-name pattern reads). */
  relative: string;
  source: 'watch' | 'upload';
  mtimeMs: number;
  format: SniffedFormat;
  /** Why it cannot be diagnosed, found before storing anything; nothing is stored then. */
  failure: ErrorInfo | undefined;
  stable?: StableFile;
  patientId?: string | null;
  ear?: Ear;
}

/** A photo's stored copy: enough for the model to diagnose it without reading its record. */
export interface PhotoCopy {
  sha256: string;
  storedPath: string;
}

/** What storing one file came to; the engine queues, counts and announces accordingly. */
export type Stored =
  /** A new photo, copied into the library: its record waits for the model. */
  | { kind: 'new'; recordId: number; copy?: PhotoCopy }
  /** A file that failed before anything was stored: a record of its own with the reason. */
  | { kind: 'failed'; recordId: number; failure: ErrorInfo }
  /** The same bytes under another name: a further record of that photo (one diagnosis, several sources). */
  | { kind: 'source'; recordId: number; primaryId: number }
  /** A watched file renamed or moved: its record followed it. */
  | { kind: 'moved'; recordId: number; from: string }
  /** The same file once more (re-saved or touched): nothing new. */
  | { kind: 'again'; recordId: number };

export interface PhotoSourcesOptions {
  store: Store;
  library: ImageLibrary;
  patterns: PatternMatcher;
  logger: Logger;
  settings(): Settings;
}

/**
 * Admission's second half: a file whose bytes were read becomes a record. A new photo is copied into the
 * library (temp file, fsync, rename) with its thumbnail; the same bytes again are told apart as another
 * source, a rename or the same file; patient, ear and capture time come from EXIF, the name and the mtime.
 */
export class PhotoSources {
  constructor(private readonly o: PhotoSourcesOptions) {}

  /** Patient, ear and date from the name; a pattern that fails or runs out of time reads as no match. */
  async parseName(relative: string): Promise<ParsedName> {
    try {
      return await this.o.patterns.parse(this.o.settings().fileNamePattern, relative);
    } catch (err) {
      this.o.logger.warn(`file-name pattern on ${relative}: ${(err as Error).message}`);
      return { matched: false, patientId: null, ear: 'unknown', capturedAt: null };
    }
  }

  async store(bytes: Buffer, item: IngestItem): Promise<Stored> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (!item.failure) {
      const existing = await this.o.store.findBySha(sha256);
      if (existing)
        return this.anotherSource(existing.id, sha256, item, async () => {
          const facts = await probeImage(bytes, item.format, -new Date().getTimezoneOffset());
          return this.describe(item, facts.exifTakenAt);
        });
    }
    return this.record(await this.prepare(bytes, item, sha256));
  }

  /**
   * Everything about a new photo that needs no database: the copy and thumbnail in the library, the facts
   * read from the image and its name. What `record` writes, and what the local queue keeps while the
   * database is unreachable.
   */
  async prepare(bytes: Buffer, item: IngestItem, sha256?: string): Promise<QueuedPhoto> {
    const { library } = this.o;
    const sha = sha256 ?? createHash('sha256').update(bytes).digest('hex');
    let storedPath: string | null = null;
    let thumbPath: string | null = null;
    if (!item.failure) {
      storedPath = ImageLibrary.originalPath(sha, item.format ? EXTENSION_OF[item.format] : '.bin');
      await library.put(storedPath, bytes);
      const thumb = await library.makeThumbnail(bytes);
      if (thumb) {
        thumbPath = ImageLibrary.thumbPath(sha);
        await library.put(thumbPath, thumb);
      }
    }
    const facts = item.failure
      ? { width: null, height: null, exifTakenAt: null }
      : await probeImage(bytes, item.format, -new Date().getTimezoneOffset());
    const src = await this.describe(item, facts.exifTakenAt);
    const f = item.stable;
    const image: NewImage = {
      sha256: sha,
      fileName: item.fileName,
      originalPath: item.originalPath,
      source: item.source,
      storedPath,
      thumbPath,
      sizeBytes: bytes.length,
      width: facts.width,
      height: facts.height,
      format: item.format,
      ...src,
      ...(f ? { sourceFile: { path: f.path, size: f.size, mtimeMs: f.mtimeMs } } : {}),
      ...(item.failure ? { failure: item.failure } : {}),
    };
    return { image, relative: item.relative };
  }

  /** Writes a prepared photo: a new record, or (the same bytes stored meanwhile) another source of one. */
  async record({ image, relative }: QueuedPhoto): Promise<Stored> {
    const { id, created } = await this.o.store.insertImage(image);
    if (!created) {
      const { sourceFile: f, ...rest } = image;
      const item = { ...rest, relative, ...(f ? { stable: f } : {}) };
      return this.anotherSource(id, image.sha256, item, async () => src(image));
    }
    if (image.failure) return { kind: 'failed', recordId: id, failure: image.failure };
    const copy = image.storedPath ? { sha256: image.sha256, storedPath: image.storedPath } : null;
    return { kind: 'new', recordId: id, ...(copy ? { copy } : {}) };
  }

  /** A photo already stored, brought again: the same file, a renamed one, or another source of it. */
  private async anotherSource(
    primaryId: number,
    sha256: string,
    item: Pick<IngestItem, 'fileName' | 'originalPath' | 'relative' | 'source'> & {
      stable?: { path: string; size: number; mtimeMs: number };
    },
    describe: () => Promise<Omit<NewSource, 'fileName' | 'originalPath' | 'source' | 'sourceFile'>>,
  ): Promise<Stored> {
    const { store, logger } = this.o;
    const records = await store.photoRecords(primaryId);
    const f = item.stable;
    if (f) {
      const same = records.find((r) => r.source === 'watch' && r.original_path === f.path);
      if (same) {
        await store.rememberSource(f.path, f.size, f.mtimeMs, same.id);
        return { kind: 'again', recordId: same.id };
      }
      // Renamed or moved: a file with these bytes, size and mtime that is no longer where it was.
      const moved = (await store.sourcesWithSameFile(sha256, f.size, f.mtimeMs)).find(
        (c) => c.path !== f.path && !existsSync(c.path),
      );
      if (moved) {
        const parsed = await this.parseName(item.relative);
        await store.moveSource(moved.recordId, moved.path, { ...f, fileName: item.fileName }, parsed);
        logger.info(`moved ${path.basename(moved.path)} → ${item.fileName} (record ${moved.recordId})`);
        return { kind: 'moved', recordId: moved.recordId, from: moved.path };
      }
    }
    const src = await describe();
    if (item.source === 'upload') {
      const again = records.find(
        (r) =>
          r.source === 'upload' &&
          r.file_name === item.fileName &&
          r.patient_id === src.patientId &&
          r.ear === src.ear,
      );
      if (again) return { kind: 'again', recordId: again.id };
    }
    const id = await store.addSource(primaryId, {
      fileName: item.fileName,
      originalPath: item.originalPath,
      source: item.source,
      ...src,
      ...(f ? { sourceFile: { path: f.path, size: f.size, mtimeMs: f.mtimeMs } } : {}),
    });
    logger.info(`duplicate ${item.fileName}: the photo of record ${primaryId}, kept as record ${id}`);
    return { kind: 'source', recordId: id, primaryId };
  }

  /**
   * Patient, ear and capture time of one file that brought a photo: from the name (pattern) or the upload's
   * fields; the time from EXIF, else a dated name, else the file's mtime.
   */
  private async describe(
    item: IngestItem,
    exifTakenAt: string | null,
  ): Promise<Omit<NewSource, 'fileName' | 'originalPath' | 'source' | 'sourceFile'>> {
    const offset = -new Date().getTimezoneOffset();
    const parsed = await this.parseName(item.relative);
    // A name with only a date gives local midnight; the file's mtime on that same day is more precise.
    let fromName = parsed.capturedAt;
    if (fromName) {
      const start = Date.parse(fromName);
      const localMidnight = (start + offset * 60_000) % 86_400_000 === 0;
      if (localMidnight && item.mtimeMs >= start && item.mtimeMs < start + 86_400_000) fromName = null;
    }
    const upload = item.source === 'upload';
    const capturedAt = upload
      ? (exifTakenAt ?? new Date().toISOString())
      : (exifTakenAt ?? fromName ?? new Date(item.mtimeMs).toISOString());
    const captureSource = exifTakenAt ? 'exif' : upload ? 'upload' : fromName ? 'name' : 'mtime';
    const manual = item.patientId !== undefined || item.ear !== undefined;
    return {
      capturedAt,
      captureSource,
      patientId: manual ? (item.patientId ?? null) : parsed.patientId,
      ear: manual ? (item.ear ?? 'unknown') : parsed.ear,
      patientSource: manual ? 'upload' : parsed.matched ? 'pattern' : 'none',
    };
  }
}

/** A source's description as a prepared record holds it. */
function src(image: NewImage): Omit<NewSource, 'fileName' | 'originalPath' | 'source' | 'sourceFile'> {
  return {
    capturedAt: image.capturedAt,
    captureSource: image.captureSource,
    patientId: image.patientId,
    ear: image.ear,
    patientSource: image.patientSource,
  };
}
