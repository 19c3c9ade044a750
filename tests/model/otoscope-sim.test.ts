import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  NEUTRAL_OTOSCOPE,
  STRESS_OTOSCOPES,
  randomOtoscope,
  simulateOtoscope,
} from '../../model/augment/otoscope-sim.ts';
import { EardrumClassifier, defaultModelDir } from '../../model/classifier.ts';
import { decodeImage, type DecodedImage } from '../../model/image-decode.ts';
import { stressMarkdown, stressTest } from '../../model/eval/stress.ts';
import { sharedDir } from '../../model/paths.ts';
import { preprocessedBytes } from '../../model/train/render-views.ts';
import { seededRandom } from '../../model/train/softmax-head.ts';

const otoscopy = path.join(sharedDir(), 'datasets/otoscopy');
const first = (label: string) =>
  path.join(otoscopy, label, readdirSync(path.join(otoscopy, label)).sort()[0]!);
const mean = (img: DecodedImage, c: number) => {
  let s = 0;
  for (let i = c; i < img.data.length; i += 3) s += img.data[i]!;
  return s / (img.data.length / 3);
};

let photo: DecodedImage;
beforeAll(async () => {
  photo = await decodeImage(first('normal'), 320);
});

describe('simulated otoscopes', () => {
  it('the neutral otoscope changes nothing', async () => {
    const out = await simulateOtoscope(photo, NEUTRAL_OTOSCOPE);
    expect(out.width).toBe(photo.width);
    expect(Buffer.from(out.data).equals(Buffer.from(photo.data))).toBe(true);
  });

  it('is deterministic for a profile and a noise seed', async () => {
    const profile = randomOtoscope(seededRandom(3));
    const a = await simulateOtoscope(photo, { ...profile, noise: 5 }, seededRandom(9));
    const b = await simulateOtoscope(photo, { ...profile, noise: 5 }, seededRandom(9));
    expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true);
  });

  it('warm light raises red against blue; exposure darkens; a tight 4:3 crop has no border', async () => {
    const warm = await simulateOtoscope(photo, { ...NEUTRAL_OTOSCOPE, temperature: 0.3 });
    expect(mean(warm, 0) - mean(warm, 2)).toBeGreaterThan(mean(photo, 0) - mean(photo, 2));
    const dim = await simulateOtoscope(photo, { ...NEUTRAL_OTOSCOPE, exposure: 0.5 });
    expect(mean(dim, 1)).toBeLessThan(mean(photo, 1) * 0.6);
    const tight = STRESS_OTOSCOPES.find((s) => s.id === 'tight-frame')!.profile;
    const cropped = await simulateOtoscope(photo, tight);
    expect(cropped.width / cropped.height).toBeCloseTo(4 / 3, 1);
    expect(cropped.width).toBeLessThan(photo.width);
  });

  it('an aperture blackens the corners; the preprocessing finds the smaller field again', async () => {
    const round = await simulateOtoscope(photo, {
      ...NEUTRAL_OTOSCOPE,
      aperture: { radius: 0.35, shiftX: 0, shiftY: 0 },
    });
    expect(round.data[0]! + round.data[1]! + round.data[2]!).toBe(0);
    const cfg = {
      size: 64,
      framing: 'fov-circle' as const,
      whiteBalance: 'grayworld' as const,
      mean: [0, 0, 0] as [number, number, number],
      std: [1, 1, 1] as [number, number, number],
    };
    // The field is re-found and scaled up: the centre of the network input stays lit.
    const centre = preprocessedBytes(round, cfg).subarray((32 * 64 + 32) * 3, (32 * 64 + 32) * 3 + 3);
    expect(centre[0]! + centre[1]! + centre[2]!).toBeGreaterThan(60);
  });

  it('every stress profile is a real change, and they have distinct names', async () => {
    expect(new Set(STRESS_OTOSCOPES.map((s) => s.id)).size).toBe(STRESS_OTOSCOPES.length);
    for (const s of STRESS_OTOSCOPES) {
      const out = await simulateOtoscope(photo, s.profile, seededRandom(1));
      const same = out.width === photo.width && Buffer.from(out.data).equals(Buffer.from(photo.data));
      expect(same, s.id).toBe(false);
    }
  });
});

describe('stress test', () => {
  let classifier: EardrumClassifier;
  beforeAll(async () => {
    classifier = await EardrumClassifier.load(defaultModelDir());
  }, 120_000);
  afterAll(() => classifier?.dispose());

  it('diagnoses each photo under every profile and accounts for every answer', async () => {
    const samples = [
      { file: first('normal'), label: 'normal' },
      { file: first('earwax'), label: 'earwax' },
      { file: first('normal'), label: 'pseudo_membrane' }, // a label the model lacks is left out
    ];
    const r = await stressTest(classifier, samples);
    expect(r.images).toBe(2);
    expect(r.profiles).toHaveLength(STRESS_OTOSCOPES.length);
    for (const p of r.profiles) {
      expect(p.images).toBe(2);
      // Gains and losses balance: every answer moved somewhere.
      expect(Object.values(p.shift).reduce((a, b) => a + b, 0)).toBeCloseTo(0, 10);
      expect(p.changed).toBeLessThanOrEqual(2);
    }
    expect(r.changedShare).toBeGreaterThanOrEqual(0);
    expect(r.changedShare).toBeLessThanOrEqual(1);
    expect(stressMarkdown(r, 'stress')).toContain('| tight-frame');
  }, 300_000);
});
