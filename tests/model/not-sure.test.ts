import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EardrumClassifier, defaultModelDir } from '../../model/classifier.ts';
import { ModelLoadError } from '../../model/errors.ts';
import { FamiliarityIndex } from '../../model/familiarity.ts';
import { decide, fitNotSureRule } from '../../model/not-sure.ts';
import {
  REFERENCE_BIN,
  appendReference,
  float16BitsToFloat32,
  readReferenceFeatures,
  writeReferenceFeatures,
  type ReferenceFeatures,
} from '../../model/reference-features.ts';
import { float32ToFloat16Bits } from '../../model/onnx/layers-model-files.ts';

const tmp = await mkdtemp(path.join(tmpdir(), 'eardrum-notsure-'));
afterAll(() => rm(tmp, { recursive: true, force: true }));

function reference(rows: number[][], eardrum = rows.map(() => true)): ReferenceFeatures {
  return {
    dim: rows[0]!.length,
    rows: rows.length,
    x: Float32Array.from(rows.flat()),
    entries: rows.map((_, i) => ({ label: 'normal', source: 's', eardrum: eardrum[i]! })),
  };
}

describe('reference features file', () => {
  it('float16 round trip keeps values to half precision, special values included', () => {
    const v = Float32Array.from([0, -0, 1, -2.5, 65504, 1e-7, 3.14159, Infinity, -Infinity]);
    const back = float16BitsToFloat32(float32ToFloat16Bits(v));
    expect(Array.from(back.slice(0, 5))).toEqual([0, -0, 1, -2.5, 65504]);
    expect(back[5]).toBeCloseTo(1.19e-7, 8);
    expect(back[6]).toBeCloseTo(3.1406, 3);
    expect(back[7]).toBe(Infinity);
    expect(back[8]).toBe(-Infinity);
    expect(Number.isNaN(float16BitsToFloat32(Uint16Array.from([0x7e00]))[0])).toBe(true);
  });

  it('writes, reads back and appends; a truncated file is a clear load error', async () => {
    const dir = path.join(tmp, 'ref');
    await mkdir(dir);
    const ref = reference([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    await writeReferenceFeatures(dir, ref);
    const back = (await readReferenceFeatures(dir))!;
    expect(back.rows).toBe(2);
    expect(Array.from(back.x)).toEqual([1, 2, 3, 4, 5, 6]);
    const more = appendReference(back, Float32Array.from([7, 8, 9]), [
      { label: 'aom', source: 'clinic', eardrum: true },
    ]);
    expect(more.rows).toBe(3);
    expect(more.entries[2]!.source).toBe('clinic');
    expect(await readReferenceFeatures(path.join(tmp, 'none'))).toBeNull();
    await writeFile(path.join(dir, REFERENCE_BIN), Buffer.alloc(5));
    await expect(readReferenceFeatures(dir)).rejects.toThrow(ModelLoadError);
  });
});

describe('familiarity', () => {
  it('is low next to reference eardrums, high far from them, and ignores negatives', () => {
    const rows: number[][] = [];
    for (let i = 0; i < 20; i++) rows.push([1 + (i % 5) * 0.1, 1 - (i % 3) * 0.1, 0.5 + (i % 7) * 0.05, 0]);
    rows.push([0, 0, 0, 50]); // a negative far away must not make that region familiar
    const index = new FamiliarityIndex(
      reference(
        rows,
        rows.map((_, i) => i < 20),
      ),
      3,
    );
    const near = index.unfamiliarity(Float32Array.from(rows[4]!), true);
    const far = index.unfamiliarity(Float32Array.from([0, 0, 0, 50]));
    expect(near).toBeLessThan(far);
    expect(index.unfamiliarity(Float32Array.from(rows[4]!))).toBeLessThanOrEqual(near);
    expect(() => index.unfamiliarity(Float32Array.from([1, 2]))).toThrow(RangeError);
    index.dispose();
  });
});

describe('not-sure rule', () => {
  it('decides and names every reason', () => {
    const rule = { minConfidence: 0.6, maxUnfamiliarity: 0.5, k: 3 };
    expect(decide(0.9, 0.2, rule)).toEqual({ decision: 'confident', reasons: [] });
    expect(decide(0.5, 0.2, rule)).toEqual({ decision: 'not_sure', reasons: ['low_confidence'] });
    expect(decide(0.9, 0.7, rule)).toEqual({ decision: 'not_sure', reasons: ['unfamiliar'] });
    expect(decide(0.5, 0.7, rule).reasons).toEqual(['low_confidence', 'unfamiliar']);
  });

  it('chooses the familiar quantile, then the lowest confidence floor that keeps the target accuracy', () => {
    // 10 answers; the two least confident are wrong, one unfamiliar answer is excluded.
    const answers = [
      { confidence: 0.99, unfamiliarity: 0.1, correct: true },
      { confidence: 0.95, unfamiliarity: 0.2, correct: true },
      { confidence: 0.9, unfamiliarity: 0.1, correct: true },
      { confidence: 0.85, unfamiliarity: 0.3, correct: true },
      { confidence: 0.8, unfamiliarity: 0.2, correct: true },
      { confidence: 0.75, unfamiliarity: 0.1, correct: true },
      { confidence: 0.7, unfamiliarity: 0.2, correct: true },
      { confidence: 0.5, unfamiliarity: 0.1, correct: false },
      { confidence: 0.4, unfamiliarity: 0.3, correct: false },
      { confidence: 0.97, unfamiliarity: 0.9, correct: false },
    ];
    const rule = fitNotSureRule(answers, { targetAccuracy: 0.9, familiarQuantile: 0.85, k: 3 });
    expect(rule.maxUnfamiliarity).toBe(0.3);
    expect(rule.minConfidence).toBe(0.7);
    expect(rule.coverage).toBeCloseTo(0.7);
    expect(rule.confidentAccuracy).toBe(1);
  });
});

describe('classifier', () => {
  it('refuses a folder whose card has a not-sure rule but no reference features', async () => {
    const card = JSON.parse(await readFile(path.join(defaultModelDir(), 'model-card.json'), 'utf8'));
    expect(card.notSure).toBeDefined();
    const dir = path.join(tmp, 'no-reference');
    await cp(defaultModelDir(), dir, { recursive: true });
    await rm(path.join(dir, REFERENCE_BIN));
    await expect(EardrumClassifier.load(dir)).rejects.toThrow(ModelLoadError);
  });
});
