import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { decode as decodeBmp } from 'bmp-ts';
import { ImageInputError } from './errors.ts';

/** Largest picture accepted, in pixels (a 12,000 x 12,000 capture still decodes; beyond this we refuse). */
export const MAX_INPUT_PIXELS = 150_000_000;
/** Working resolution: quality checks and field-of-view detection run on this size; the network input is smaller (see the card). */
export const WORK_SIZE = 320;

export interface DecodedImage {
  /** RGB, 8 bit, row-major, `width * height * 3` bytes, already turned upright (EXIF orientation). */
  data: Uint8Array;
  width: number;
  height: number;
  /** Size and format of the original file. */
  original: { width: number; height: number; format: string };
}

const FORMATS = new Set(['jpeg', 'png', 'tiff', 'webp', 'bmp']);

function looksLikeBmp(buf: Buffer): boolean {
  return buf.length > 26 && buf[0] === 0x42 && buf[1] === 0x4d;
}

async function readInput(input: Buffer | string): Promise<Buffer> {
  if (typeof input !== 'string') return input;
  try {
    return await readFile(input);
  } catch (err) {
    throw new ImageInputError('not_found', `${input} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** sharp does not read BMP, which some otoscope software exports; decode it in JS and hand sharp raw RGBA. */
function bmpToSharp(buf: Buffer): { image: sharp.Sharp; width: number; height: number } {
  let bmp;
  try {
    bmp = decodeBmp(buf, { toRGBA: true });
  } catch (err) {
    throw new ImageInputError('corrupt', `BMP: ${(err as Error).message}`);
  }
  const { width, height } = bmp;
  if (!(width > 0 && height > 0) || width * height > MAX_INPUT_PIXELS) {
    throw new ImageInputError('too_large', `BMP ${width}x${height}`);
  }
  if (bmp.data.length < width * height * 4)
    throw new ImageInputError('corrupt', 'BMP pixel data is truncated');
  // bmp-ts leaves alpha at 0 for 24-bit files, and sharp would premultiply by it when resizing:
  // keep RGB only (otoscope frames are opaque).
  const rgb = Buffer.alloc(width * height * 3);
  for (let p = 0, q = 0; p < width * height * 4; p += 4, q += 3) {
    rgb[q] = bmp.data[p]!;
    rgb[q + 1] = bmp.data[p + 1]!;
    rgb[q + 2] = bmp.data[p + 2]!;
  }
  const image = sharp(rgb, { raw: { width, height, channels: 3 } });
  return { image, width, height };
}

/**
 * Decodes any supported image into an upright 8-bit RGB picture no larger than `maxSide` on its
 * longest side (never enlarged). Throws ImageInputError with a clear reason for anything unreadable.
 */
export async function decodeImage(input: Buffer | string, maxSide = WORK_SIZE): Promise<DecodedImage> {
  const buf = await readInput(input);
  if (buf.length === 0) throw new ImageInputError('empty');

  let pipeline: sharp.Sharp;
  let original: DecodedImage['original'];
  if (looksLikeBmp(buf)) {
    const bmp = bmpToSharp(buf);
    pipeline = bmp.image;
    original = { width: bmp.width, height: bmp.height, format: 'bmp' };
  } else {
    let meta: sharp.Metadata;
    try {
      pipeline = sharp(buf, {
        limitInputPixels: MAX_INPUT_PIXELS,
        failOn: 'truncated',
        sequentialRead: true,
      });
      meta = await pipeline.metadata();
    } catch (err) {
      throw classifySharpError(err);
    }
    if (!meta.format || !FORMATS.has(meta.format))
      throw new ImageInputError('not_image', `format ${meta.format}`);
    if (!meta.width || !meta.height) throw new ImageInputError('corrupt', 'no image dimensions');
    if (meta.width * meta.height > MAX_INPUT_PIXELS) {
      throw new ImageInputError(
        'too_large',
        `${meta.width}x${meta.height} is over ${MAX_INPUT_PIXELS / 1e6} MP`,
      );
    }
    const upright = (meta.orientation ?? 1) >= 5;
    original = {
      width: upright ? meta.height : meta.width,
      height: upright ? meta.width : meta.height,
      format: meta.format,
    };
    pipeline = pipeline.rotate();
  }

  try {
    const { data, info } = await pipeline
      .resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true, fastShrinkOnLoad: true })
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3)
      throw new ImageInputError('unsupported', `${info.channels} channels after conversion`);
    return {
      data: new Uint8Array(data.buffer, data.byteOffset, data.length),
      width: info.width,
      height: info.height,
      original,
    };
  } catch (err) {
    throw classifySharpError(err);
  }
}

function classifySharpError(err: unknown): ImageInputError {
  if (err instanceof ImageInputError) return err;
  const msg = (err as Error).message ?? String(err);
  if (/unsupported image format|Input buffer contains unsupported/i.test(msg))
    return new ImageInputError('not_image', msg);
  if (/pixel limit|exceeds/i.test(msg)) return new ImageInputError('too_large', msg);
  return new ImageInputError('corrupt', msg);
}
