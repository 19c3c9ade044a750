import { describe, expect, it } from 'vitest';
import {
  classificationReport,
  expectedCalibrationError,
  negativeLogLikelihood,
  rocAuc,
  softmax,
} from '../../model/eval/metrics.ts';
import { chooseGateThreshold, fitTemperature } from '../../model/train/calibration.ts';
import { bootstrapInterval, summarise } from '../../model/eval/evaluate.ts';

describe('metrics against hand-computed values', () => {
  it('accuracy, per-label precision/recall/F1, macro-F1 and the confusion matrix', () => {
    // truth:     a a a b b c
    // predicted: a a b b c c
    const r = classificationReport(
      ['a', 'a', 'a', 'b', 'b', 'c'],
      ['a', 'a', 'b', 'b', 'c', 'c'],
      ['a', 'b', 'c'],
    );
    expect(r.accuracy).toBeCloseTo(4 / 6, 10);
    expect(r.confusion).toEqual([
      [2, 1, 0],
      [0, 1, 1],
      [0, 0, 1],
    ]);
    const [a, b, c] = r.perLabel;
    expect(a).toMatchObject({ precision: 1, recall: 2 / 3, support: 3 });
    expect(a!.f1).toBeCloseTo(0.8, 10);
    expect(b).toMatchObject({ precision: 0.5, recall: 0.5, f1: 0.5, support: 2 });
    expect(c!.precision).toBeCloseTo(0.5, 10);
    expect(c!.recall).toBe(1);
    expect(c!.f1).toBeCloseTo(2 / 3, 10);
    expect(r.macroF1).toBeCloseTo((0.8 + 0.5 + 2 / 3) / 3, 10);
  });

  it('macro-F1 ignores labels with no support', () => {
    const r = classificationReport(['a', 'a'], ['a', 'a'], ['a', 'z']);
    expect(r.macroF1).toBe(1);
  });

  it('ROC AUC by ranks, with ties as half', () => {
    // positives 0.9, 0.4; negatives 0.8, 0.1 → pairs: (0.9>0.8)(0.9>0.1)(0.4<0.8)(0.4>0.1) = 3/4
    expect(rocAuc([0.9, 0.8, 0.4, 0.1], [true, false, true, false])).toBeCloseTo(0.75, 10);
    expect(rocAuc([0.5, 0.5], [true, false])).toBeCloseTo(0.5, 10);
    expect(rocAuc([0.2, 0.3], [true, true])).toBeNaN();
  });

  it('expected calibration error over bins', () => {
    // bin [0.9,1.0): conf 0.95 x2, one right → |0.5-0.95| * 2/4; bin [0.6,0.7): conf 0.65 x2, both right → |1-0.65| * 2/4
    const { ece, bins } = expectedCalibrationError([0.95, 0.95, 0.65, 0.65], [true, false, true, true], 10);
    expect(ece).toBeCloseTo(0.5 * 0.45 + 0.5 * 0.35, 10);
    expect(bins[9]).toMatchObject({ count: 2, accuracy: 0.5 });
  });

  it('softmax with temperature and negative log-likelihood', () => {
    const p = softmax([Math.log(3), 0]);
    expect(p[0]).toBeCloseTo(0.75, 10);
    const flat = softmax([2, 0], 1e6);
    expect(flat[0]).toBeCloseTo(0.5, 5);
    expect(
      negativeLogLikelihood(
        [
          [0.5, 0.5],
          [0.25, 0.75],
        ],
        [0, 1],
      ),
    ).toBeCloseTo(-(Math.log(0.5) + Math.log(0.75)) / 2, 10);
  });

  it('temperature scaling softens over-confident logits and leaves calibrated ones near 1', () => {
    // Logits of 10 for the predicted class, right 70% of the time: the fitted T must be well above 1.
    const logits: number[] = [];
    const truth: number[] = [];
    for (let i = 0; i < 100; i++) {
      logits.push(10, 0);
      truth.push(i < 70 ? 0 : 1);
    }
    const t = fitTemperature(Float32Array.from(logits), 2, truth);
    // Optimum: softmax([10/T, 0])[0] = 0.7 → 10/T = ln(0.7/0.3)
    expect(t).toBeCloseTo(10 / Math.log(0.7 / 0.3), 1);
  });

  it('gate threshold rejects at most the allowed share of eardrums', () => {
    const probs = Array.from({ length: 100 }, (_, i) => (i + 1) / 100);
    const t = chooseGateThreshold(probs, 0.03);
    expect(probs.filter((p) => p < t).length).toBe(3);
  });
});

describe('evaluation summary extras', () => {
  const outcome = (
    truth: string,
    probabilities: Record<string, number>,
    decision: 'confident' | 'not_sure',
  ) => {
    const label = Object.entries(probabilities).sort((a, b) => b[1] - a[1])[0]![0];
    return {
      file: `${truth}.jpg`,
      truth,
      gate: 'eardrum' as const,
      label,
      probabilities,
      eardrumProbability: 0.9,
      decision,
      decodeMs: 1,
      inferenceMs: 1,
    };
  };

  it('recovers the calibration error of the raw logits from the calibrated probabilities', () => {
    // Raw logits [2, 0] at temperature 2 give softmax([1, 0]); the raw softmax is softmax([2, 0]).
    const calibrated = softmax([2, 0], 2);
    const raw = softmax([2, 0]);
    const outcomes = [outcome('a', { a: calibrated[0]!, b: calibrated[1]! }, 'confident')];
    const r = summarise(outcomes, ['a', 'b'], [], 2);
    expect(r.ece).toBeCloseTo(1 - calibrated[0]!, 6);
    expect(r.eceBeforeTemperature).toBeCloseTo(1 - raw[0]!, 6);
    expect(summarise(outcomes, ['a', 'b']).eceBeforeTemperature).toBeNull();
  });

  it('counts confident answers against all known-label eardrums, and bootstraps macro-F1', () => {
    const outcomes = [
      outcome('a', { a: 0.9, b: 0.1 }, 'confident'),
      outcome('a', { a: 0.6, b: 0.4 }, 'not_sure'),
      outcome('b', { a: 0.7, b: 0.3 }, 'confident'),
      outcome('b', { a: 0.2, b: 0.8 }, 'confident'),
    ];
    const r = summarise(outcomes, ['a', 'b']);
    expect(r.confident).toEqual({ coverage: 0.75, accuracy: 2 / 3, images: 3 });
    const [lo, hi] = r.macroF1Interval!;
    expect(lo).toBeLessThanOrEqual(r.classification!.macroF1);
    expect(hi).toBeGreaterThanOrEqual(r.classification!.macroF1);
    expect(bootstrapInterval(10, () => 0.5)).toEqual([0.5, 0.5]);
  });
});
