import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { encode as encodeBmp } from 'bmp-ts';
import { selectBackend } from '../../model/backend.ts';
import { ImageInputError } from '../../model/errors.ts';
import { findFieldOfView } from '../../model/field-of-view.ts';
import { decodeImage } from '../../model/image-decode.ts';
import { toNetworkInput, type PreprocessConfig } from '../../model/preprocess.ts';
import { measureQuality, ungradableReason } from '../../model/quality.ts';

const cfg: PreprocessConfig = {
  size: 64,
  framing: 'fov-circle',
  whiteBalance: 'grayworld',
  mean: [0, 0, 0],
  std: [1, 1, 1],
};

/** A synthetic otoscope frame: a lit disc (with a darker spot) on black, `w` x `h`. */
async function discImage(
  w: number,
  h: number,
  cx: number,
  cy: number,
  r: number,
  colour = '#d08070',
): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><rect width="100%" height="100%" fill="black"/><circle cx="${cx}" cy="${cy}" r="${r}" fill="${colour}"/><circle cx="${cx}" cy="${cy}" r="${r / 4}" fill="#603030"/></svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 95 }).toBuffer();
}

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('decodeImage', () => {
  it('turns pictures upright by their EXIF orientation', async () => {
    // 200x100 landscape stored with orientation 6 (rotate 90° clockwise to view) → 100x200 upright.
    const raw = await sharp({ create: { width: 200, height: 100, channels: 3, background: '#808080' } })
      .jpeg()
      .toBuffer();
    const rotated = await sharp(raw).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    const d = await decodeImage(rotated);
    expect(d.original).toMatchObject({ width: 100, height: 200, format: 'jpeg' });
    expect(d.width).toBeLessThan(d.height);
  });

  it('reads JPEG, PNG, TIFF, WebP and BMP to 8-bit RGB no larger than the working size', async () => {
    const jpg = await discImage(640, 480, 320, 240, 200);
    const rgba = await sharp(jpg).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    // bmp-ts takes ABGR byte order.
    const abgr = Buffer.alloc(rgba.data.length);
    for (let i = 0; i < abgr.length; i += 4) {
      abgr[i] = 255;
      abgr[i + 1] = rgba.data[i + 2]!;
      abgr[i + 2] = rgba.data[i + 1]!;
      abgr[i + 3] = rgba.data[i]!;
    }
    const bmp = encodeBmp({ data: abgr, width: 640, height: 480, bitPP: 24 }).data;
    const inputs = {
      jpeg: jpg,
      png: await sharp(jpg).png().toBuffer(),
      tiff: await sharp(jpg).tiff().toBuffer(),
      webp: await sharp(jpg).webp().toBuffer(),
      bmp,
    };
    for (const [format, buf] of Object.entries(inputs)) {
      const d = await decodeImage(buf, 320);
      expect(d.original.format).toBe(format);
      expect([d.width, d.height]).toEqual([320, 240]);
      expect(d.data.length).toBe(320 * 240 * 3);
      // Centre of the disc is the dark spot, reddish; a point inside the ring is the pinkish fill.
      const p = (120 * 320 + 160 + 70) * 3;
      expect(d.data[p]!, format).toBeGreaterThan(150);
      expect(d.data[p]!).toBeGreaterThan(d.data[p + 2]!);
    }
  });

  it('converts 16-bit PNG and CMYK JPEG to 8-bit sRGB', async () => {
    const jpg = await discImage(300, 300, 150, 150, 120);
    const png16 = await sharp(jpg).toColourspace('rgb16').png().toBuffer();
    expect((await sharp(png16).metadata()).depth).toBe('ushort');
    const cmyk = await sharp(jpg).toColourspace('cmyk').jpeg().toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');
    const a = await decodeImage(jpg);
    for (const buf of [png16, cmyk]) {
      const d = await decodeImage(buf);
      expect(d.data.length).toBe(a.data.length);
      let diff = 0;
      for (let i = 0; i < d.data.length; i++) diff += Math.abs(d.data[i]! - a.data[i]!);
      expect(diff / d.data.length).toBeLessThan(12);
    }
  });

  it('gives a clear, typed error for unreadable input', async () => {
    const jpg = await discImage(300, 300, 150, 150, 120);
    const cases: [Buffer | string, string][] = [
      [Buffer.alloc(0), 'empty'],
      [jpg.subarray(0, Math.floor(jpg.length / 2)), 'corrupt'],
      [Buffer.from('this is a text file, not a photo'), 'not_image'],
      ['/nonexistent/photo.jpg', 'not_found'],
      [Buffer.from([0x42, 0x4d, 1, 2, 3]), 'not_image'],
    ];
    for (const [input, code] of cases) {
      const err = await decodeImage(input).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ImageInputError);
      expect((err as ImageInputError).code).toBe(code);
      expect((err as Error).message.length).toBeGreaterThan(10);
    }
  });
});

describe('field of view and network input', () => {
  it('finds the lit disc of an off-centre circular otoscope frame', async () => {
    const d = await decodeImage(await discImage(400, 300, 240, 160, 100), 400);
    const box = findFieldOfView(d.data, d.width, d.height);
    expect(box.cx).toBeGreaterThan(230);
    expect(box.cx).toBeLessThan(250);
    expect(box.cy).toBeGreaterThan(150);
    expect(box.cy).toBeLessThan(170);
    expect(box.side).toBeGreaterThan(190);
    expect(box.side).toBeLessThan(215);
  });

  it('uses the shorter side of a fully lit rectangular frame', async () => {
    const jpg = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#c09080' } })
      .jpeg()
      .toBuffer();
    const d = await decodeImage(jpg);
    const box = findFieldOfView(d.data, d.width, d.height);
    expect(box.side).toBeGreaterThan(195);
    expect(box.side).toBeLessThanOrEqual(200);
  });

  it('masks to a circle and removes a colour cast with gray-world balance', async () => {
    const d = await decodeImage(
      await sharp({ create: { width: 200, height: 200, channels: 3, background: '#c06090' } })
        .jpeg()
        .toBuffer(),
    );
    const { input, view } = toNetworkInput(d, cfg);
    expect(input.shape).toEqual([64, 64, 3]);
    const px = view.arraySync() as number[][][];
    expect(px[0]![0]).toEqual([0, 0, 0]); // corner outside the circle
    const centre = px[32]![32]!;
    expect(Math.max(...centre) - Math.min(...centre)).toBeLessThan(6); // cast removed: grey
    tf.dispose([input, view]);
  });
});

describe('quality checks', () => {
  const t = { minBrightP95: 30, maxClipped: 0.4, minSharpness: 3, minSide: 64 };
  it('flags dark, over-exposed, blurred and tiny pictures, and passes a normal one', async () => {
    const stats = async (buf: Buffer) => {
      const d = await decodeImage(buf);
      return measureQuality(d.data, d.width, d.height, Math.min(d.original.width, d.original.height));
    };
    const dark = await sharp({ create: { width: 200, height: 200, channels: 3, background: '#050505' } })
      .png()
      .toBuffer();
    const white = await sharp({ create: { width: 200, height: 200, channels: 3, background: '#ffffff' } })
      .png()
      .toBuffer();
    const flat = await sharp({ create: { width: 200, height: 200, channels: 3, background: '#a07060' } })
      .png()
      .toBuffer();
    const tiny = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#a07060' } })
      .png()
      .toBuffer();
    const textured = await sharp({
      create: {
        width: 200,
        height: 200,
        channels: 3,
        background: '#000',
        noise: { type: 'gaussian', mean: 128, sigma: 40 },
      },
    })
      .png()
      .toBuffer();
    expect(ungradableReason(await stats(dark), t)).toBe('too_dark');
    expect(ungradableReason(await stats(white), t)).toBe('overexposed');
    expect(ungradableReason(await stats(flat), t)).toBe('blurred');
    expect(ungradableReason(await stats(tiny), t)).toBe('too_small');
    expect(ungradableReason(await stats(textured), t)).toBeNull();
  });
});

describe('inference fast path', () => {
  it('builds the same network input as the training path (tf ops)', async () => {
    const { readdirSync } = await import('node:fs');
    const path = await import('node:path');
    const { sharedDir } = await import('../../model/paths.ts');
    const { networkInputFast } = await import('../../model/preprocess-fast.ts');
    const { cropBox } = await import('../../model/preprocess.ts');
    const dir = path.join(sharedDir(), 'datasets/otoscopy/effusion');
    const files = [path.join(dir, readdirSync(dir).sort()[0]!), await discImage(500, 400, 230, 210, 160)];
    const full: PreprocessConfig = {
      size: 224,
      framing: 'fov-circle',
      whiteBalance: 'grayworld',
      mean: [123.675, 116.28, 103.53],
      std: [58.395, 57.12, 57.375],
    };
    for (const f of files) {
      const d = await decodeImage(f);
      const box = cropBox(d, full.framing);
      const slow = toNetworkInput(d, full, undefined, box);
      const fast = networkInputFast(d, full, box);
      const a = slow.input.dataSync();
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - fast.input[i]!));
      expect(worst).toBeLessThan(1e-3);
      tf.dispose([slow.input, slow.view]);
    }
  });
});
