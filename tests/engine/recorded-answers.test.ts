import { describe, expect, it } from 'vitest';
import type { AdaptComparison } from '../../common/contract.ts';
import { withRecordedBefore } from '../../main/learn/recorded-answers.ts';

const cv: AdaptComparison = {
  folds: 3,
  photos: 5,
  before: { right: 0, rejected: 5 },
  after: { right: 4, rejected: 0 },
  perLabel: [
    { label: 'normal', photos: 3, before: { right: 0, rejected: 3 }, after: { right: 3, rejected: 0 } },
    { label: 'earwax', photos: 2, before: { right: 0, rejected: 2 }, after: { right: 1, rejected: 0 } },
  ],
};

describe('the comparison a clinic decides on', () => {
  it('puts what the model in use answered before the adapted model, label by label', () => {
    const out = withRecordedBefore(cv, [
      { label: 'normal', gate: 'eardrum', modelLabel: 'normal' },
      { label: 'normal', gate: 'eardrum', modelLabel: 'aom' },
      { label: 'normal', gate: 'not_eardrum', modelLabel: null },
      { label: 'earwax', gate: 'eardrum', modelLabel: 'earwax' },
      { label: 'earwax', gate: 'ungradable', modelLabel: null },
    ]);
    expect(out.before).toEqual({ right: 2, rejected: 1 });
    expect(out.perLabel.map((l) => [l.label, l.before])).toEqual([
      ['normal', { right: 1, rejected: 1 }],
      ['earwax', { right: 1, rejected: 0 }],
    ]);
    // The adapted model's cross-validated figures stay as they were.
    expect(out.after).toEqual(cv.after);
    expect(out.perLabel.map((l) => l.after)).toEqual(cv.perLabel.map((l) => l.after));
  });
});
