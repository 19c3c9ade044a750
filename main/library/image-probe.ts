import sharp from 'sharp';
import exifReader from 'exif-reader';

import type { ErrorInfo } from '../../common/contract.ts';

export type SniffedFormat = 'jpeg' | 'png' | 'gif' | 'webp' | 'tiff' | 'bmp' | 'heif' | 'avif' | null;

/** Extensions the watcher treats as images (lower case, with the dot). */
export const IMAGE_EXTENSIONS = new Set([
  '.jpg',
  '.jpeg',
  '.jpe',
  '.jfif',
  '.png',
  '.bmp',
  '.dib',
  '.tif',
  '.tiff',
  '.webp',
]);

/** Image formats recognised by their first bytes that the model does not read: told apart, never diagnosed. */
export const UNSUPPORTED_FORMATS = new Set<SniffedFormat>(['gif', 'heif', 'avif']);
/** Extensions of those formats: files so named are looked at (to be told why they are refused). */
export const UNSUPPORTED_EXTENSIONS = new Set(['.gif', '.heic', '.heif', '.hif', '.avif']);

const FORMAT_NAME: Record<'gif' | 'heif' | 'avif', string> = {
  gif: 'a GIF image',
  heif: 'a HEIC/HEIF photo (the format of iPhones and some cameras)',
  avif: 'an AVIF image',
};

/**
 * Why a file cannot be diagnosed before any decoding, judged from its size, name and first bytes; null when
 * it may go on to the model. Files neither named like an image nor holding one are not ours (never asked).
 */
export function admissionFailure(
  bytes: Uint8Array,
  ext: string,
  format: SniffedFormat,
  source: 'watch' | 'upload',
): ErrorInfo | null {
  const readable = 'JPEG, PNG, BMP, TIFF or WebP';
  if (bytes.length === 0) return { code: 'image.empty', message: 'The file is empty (0 bytes).' };
  if (format !== null && UNSUPPORTED_FORMATS.has(format)) {
    return {
      code: 'image.unsupported',
      message: `The file is ${FORMAT_NAME[format as 'gif' | 'heif' | 'avif']}, which this app does not read; save or export the photo as ${readable}.`,
    };
  }
  if (format === null) {
    const named = source === 'watch' && ext ? `named "${ext}" but ` : '';
    return {
      code: 'image.not_image',
      message: `The file is ${named}not an image this app reads (${readable}).`,
    };
  }
  if (source === 'watch' && !IMAGE_EXTENSIONS.has(ext)) {
    return {
      code: 'image.wrong_extension',
      message: `The file holds a ${format.toUpperCase()} image but is named "${ext || '(no extension)'}"; rename it to ${EXTENSION_OF[format]} to have it diagnosed.`,
    };
  }
  return null;
}

export const EXTENSION_OF: Record<Exclude<SniffedFormat, null>, string> = {
  jpeg: '.jpg',
  png: '.png',
  gif: '.gif',
  webp: '.webp',
  tiff: '.tif',
  bmp: '.bmp',
  heif: '.heic',
  avif: '.avif',
};

/** ISO-BMFF brands of still images; other `ftyp` files (MP4, MOV videos) are not images. */
const HEIF_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1']);
const AVIF_BRANDS = new Set(['avif', 'avis']);

/** The format the first bytes announce, whatever the file is called. */
export function sniffFormat(head: Uint8Array): SniffedFormat {
  const b = (i: number) => head[i] ?? -1;
  if (b(0) === 0xff && b(1) === 0xd8 && b(2) === 0xff) return 'jpeg';
  if (b(0) === 0x89 && b(1) === 0x50 && b(2) === 0x4e && b(3) === 0x47) return 'png';
  if (b(0) === 0x47 && b(1) === 0x49 && b(2) === 0x46 && b(3) === 0x38) return 'gif';
  if (b(0) === 0x52 && b(1) === 0x49 && b(2) === 0x46 && b(3) === 0x46 && b(8) === 0x57 && b(9) === 0x45)
    return 'webp';
  if (
    (b(0) === 0x49 && b(1) === 0x49 && b(2) === 0x2a && b(3) === 0) ||
    (b(0) === 0x4d && b(1) === 0x4d && b(2) === 0 && b(3) === 0x2a)
  )
    return 'tiff';
  if (b(0) === 0x42 && b(1) === 0x4d && head.length > 26) return 'bmp';
  if (b(4) === 0x66 && b(5) === 0x74 && b(6) === 0x79 && b(7) === 0x70) {
    const brand = String.fromCharCode(b(8), b(9), b(10), b(11));
    if (AVIF_BRANDS.has(brand)) return 'avif';
    if (HEIF_BRANDS.has(brand)) return 'heif';
  }
  return null;
}

/**
 * Whether the bytes look like a whole file. Writers that save in chunks leave JPEGs without their end marker
 * and PNGs without IEND for a while; other formats have no cheap end marker and count as complete.
 */
export function looksComplete(buf: Uint8Array, format: SniffedFormat): boolean {
  if (format === 'jpeg') {
    // Some cameras pad after the end-of-image marker, so look for it near the end, not at the last byte.
    const start = Math.max(2, buf.length - 4096);
    for (let i = buf.length - 2; i >= start; i--) if (buf[i] === 0xff && buf[i + 1] === 0xd9) return true;
    return false;
  }
  if (format === 'png') {
    const start = Math.max(8, buf.length - 64);
    for (let i = buf.length - 8; i >= start; i--) {
      if (buf[i] === 0x49 && buf[i + 1] === 0x45 && buf[i + 2] === 0x4e && buf[i + 3] === 0x44) return true;
    }
    return false;
  }
  return true;
}

export interface ImageFacts {
  width: number | null;
  height: number | null;
  /** When the picture was taken according to EXIF (ISO, UTC), or null. */
  exifTakenAt: string | null;
}

/** Header facts without decoding pixels. Never throws: unknown values are null. */
export async function probeImage(
  buf: Buffer,
  format: SniffedFormat,
  utcOffsetMinutes: number,
): Promise<ImageFacts> {
  if (format === 'bmp') {
    const width = buf.length >= 26 ? Math.abs(buf.readInt32LE(18)) : null;
    const height = buf.length >= 26 ? Math.abs(buf.readInt32LE(22)) : null;
    return { width, height, exifTakenAt: null };
  }
  try {
    const meta = await sharp(buf).metadata();
    let exifTakenAt: string | null = null;
    if (meta.exif) {
      try {
        const tags = exifReader(meta.exif);
        const taken = tags.Photo?.DateTimeOriginal ?? tags.Image?.DateTime;
        if (taken instanceof Date && !Number.isNaN(taken.getTime())) {
          // exif-reader reads the naive EXIF time as UTC; the camera wrote local wall-clock time.
          exifTakenAt = new Date(taken.getTime() - utcOffsetMinutes * 60_000).toISOString();
        }
      } catch {
        // Damaged EXIF only costs us the capture time; the mtime is used instead.
      }
    }
    const rotated = (meta.orientation ?? 1) >= 5;
    const w = meta.width ?? null;
    const h = meta.height ?? null;
    return { width: rotated ? h : w, height: rotated ? w : h, exifTakenAt };
  } catch {
    return { width: null, height: null, exifTakenAt: null };
  }
}
