import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EardrumClassifier, defaultModelDir } from '../../model/classifier.ts';
import { ImageInputError, ModelLoadError } from '../../model/errors.ts';
import { sharedDir } from '../../model/paths.ts';

const otoscopy = path.join(sharedDir(), 'datasets/otoscopy');
const firstImage = (label: string) =>
  path.join(otoscopy, label, readdirSync(path.join(otoscopy, label)).sort()[0]!);

let classifier: EardrumClassifier;
let tmp: string;

beforeAll(async () => {
  classifier = await EardrumClassifier.load(defaultModelDir());
  tmp = await mkdtemp(path.join(os.tmpdir(), 'eardrum-model-'));
});

afterAll(async () => {
  classifier?.dispose();
  await rm(tmp, { recursive: true, force: true });
});

describe('EardrumClassifier', () => {
  it('says which backend it picked and carries the card', () => {
    expect(['tensorflow', 'wasm', 'cpu']).toContain(classifier.backend);
    expect(classifier.labels.map((l) => l.id)).toContain('normal');
    for (const l of classifier.labels) expect(l.ko.length).toBeGreaterThan(0);
  });

  it('diagnoses an eardrum photo: gate, label, calibrated probabilities, heatmap, timings', async () => {
    const d = await classifier.diagnose(firstImage('normal'));
    expect(d.gate).toBe('eardrum');
    expect(d.label).not.toBeNull();
    const probs = Object.values(d.probabilities);
    expect(probs).toHaveLength(classifier.labels.length);
    expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    expect(d.probabilities[d.label!]).toBe(Math.max(...probs));
    expect(d.heatmap!.values).toHaveLength(d.heatmap!.rows * d.heatmap!.cols);
    expect(Math.max(...d.heatmap!.values)).toBeCloseTo(1, 2);
    const overlay = await sharp(d.heatmap!.overlayPng).metadata();
    // A layer in the photo's geometry (this photo is square), with transparency.
    expect(overlay).toMatchObject({ format: 'png', channels: 4 });
    expect(overlay.width! / overlay.height!).toBeCloseTo(d.image.width / d.image.height, 2);
    expect(d.timings.decodeMs).toBeGreaterThan(0);
    expect(d.timings.inferenceMs).toBeGreaterThan(0);
    expect(d.model.id).toBe(classifier.card.id);
  });

  it('draws the heatmap as a transparent layer over a 4:3 photo, where the eardrum is and nowhere else', async () => {
    // An otoscope-style 4:3 frame: black, with the eardrum's lit circle left of centre.
    const drum = await sharp(firstImage('normal')).resize(440, 440).toBuffer();
    const photo = await sharp({ create: { width: 800, height: 600, channels: 3, background: '#000' } })
      .composite([{ input: drum, left: 40, top: 80 }])
      .jpeg()
      .toBuffer();
    const d = await classifier.diagnose(photo);
    expect(d.gate).toBe('eardrum');
    const { data, info } = await sharp(d.heatmap!.overlayPng).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([384, 288, 4]);
    let drawn = 0;
    let outside = 0;
    const scale = 384 / 800;
    for (let y = 0; y < info.height; y++)
      for (let x = 0; x < info.width; x++) {
        if (data[(y * info.width + x) * 4 + 3] === 0) continue;
        drawn++;
        const px = (x + 0.5) / scale;
        const py = (y + 0.5) / scale;
        if (px < 40 - 4 || px > 480 + 4 || py < 80 - 4 || py > 520 + 4) outside++;
      }
    expect(drawn).toBeGreaterThan(500);
    expect(outside).toBe(0);
    // No photo pixels: where nothing is drawn the layer is fully transparent black.
    expect([...data.subarray(0, 4)]).toEqual([0, 0, 0, 0]);
  });

  it('rejects a photo that is not an eardrum and a blank frame', async () => {
    const cat = path.join(sharedDir(), 'datasets/not-eardrum/photo/596aa1e7cb875eb7.jpg');
    const d = await classifier.diagnose(cat);
    expect(d.gate).not.toBe('eardrum');
    expect(d.label).toBeNull();
    expect(d.heatmap).toBeNull();
    const black = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#000' } })
      .jpeg()
      .toBuffer();
    const b = await classifier.diagnose(black);
    expect(b).toMatchObject({ gate: 'ungradable', gateReason: 'too_dark' });
  });

  it('handles bad input with clear errors or sensible results, and keeps going', async () => {
    const jpg = await (await import('node:fs/promises')).readFile(firstImage('aom'));
    const errors: [Buffer | string, string][] = [
      [Buffer.alloc(0), 'empty'],
      [jpg.subarray(0, Math.floor(jpg.length * 0.6)), 'corrupt'],
      [Buffer.from('Patient list\nnot an image\n'), 'not_image'],
    ];
    const textAsJpg = path.join(tmp, 'notes.jpg');
    await writeFile(textAsJpg, 'this is a text file named .jpg');
    errors.push([textAsJpg, 'not_image']);
    for (const [input, code] of errors) {
      const err = await classifier.diagnose(input).catch((e: unknown) => e);
      expect(err, code).toBeInstanceOf(ImageInputError);
      expect((err as ImageInputError).code).toBe(code);
    }
    // Sensible results rather than errors:
    const tiny = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#c08070' } })
      .png()
      .toBuffer();
    expect(await classifier.diagnose(tiny)).toMatchObject({ gate: 'ungradable', gateReason: 'too_small' });
    const png16 = await sharp(jpg).toColourspace('rgb16').png().toBuffer();
    const cmyk = await sharp(jpg).toColourspace('cmyk').jpeg().toBuffer();
    const ref = await classifier.diagnose(jpg);
    for (const variant of [png16, cmyk]) {
      const d = await classifier.diagnose(variant);
      expect(d.gate).toBe(ref.gate);
      expect(d.label).toBe(ref.label);
    }
    const huge = await sharp({ create: { width: 12000, height: 12000, channels: 3, background: '#b07060' } })
      .jpeg()
      .toBuffer();
    const h = await classifier.diagnose(huge);
    expect(h.image).toMatchObject({ width: 12000, height: 12000 });
    // Still works after all that.
    expect((await classifier.diagnose(jpg)).gate).toBe(ref.gate);
  }, 120_000);

  it('leaks no tensors: the count after 1,000 calls equals the count after 1', async () => {
    const normal = await (await import('node:fs/promises')).readFile(firstImage('normal'));
    const cat = await (
      await import('node:fs/promises')
    ).readFile(path.join(sharedDir(), 'datasets/not-eardrum/photo/596aa1e7cb875eb7.jpg'));
    // Small inputs keep the 1,000 calls quick; both the eardrum path (heatmap) and the rejection path run.
    const small = await sharp(normal).resize(96, 96).jpeg().toBuffer();
    const smallCat = await sharp(cat).resize(96, 96).jpeg().toBuffer();
    await classifier.diagnose(small);
    const after1 = tf.memory().numTensors;
    for (let i = 1; i < 1000; i++) await classifier.diagnose(i % 2 ? small : smallCat).catch(() => undefined);
    expect(tf.memory().numTensors).toBe(after1);
  }, 300_000);

  it('refuses a missing or corrupt model folder with a clear error', async () => {
    await expect(EardrumClassifier.load(path.join(tmp, 'nope'))).rejects.toBeInstanceOf(ModelLoadError);
    const broken = path.join(tmp, 'broken');
    await cp(defaultModelDir(), broken, { recursive: true });
    await writeFile(path.join(broken, 'weights.bin'), Buffer.alloc(100));
    await expect(EardrumClassifier.load(broken)).rejects.toThrow(ModelLoadError);
    const noCard = path.join(tmp, 'nocard');
    await cp(defaultModelDir(), noCard, { recursive: true });
    await writeFile(path.join(noCard, 'model-card.json'), '{"id": 3}');
    await expect(EardrumClassifier.load(noCard)).rejects.toThrow(/model card/);
  });
});
