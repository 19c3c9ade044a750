import type { AdaptComparison, AdaptTally, ModelEntry } from '../../common/contract.ts';
import type { ReviewedPhoto } from '../store/record-rows.ts';

/**
 * The "before" of the comparison the clinic decides on: what the models in use answered when these photos
 * came in, against the reviewed labels. Those answers were made without the photos' reviews, so they are held
 * out as they stand. The adapted model's own cross-validated "before" is that of the model adapting starts
 * from, which need not be the model the clinic uses (resources/models/current.json `adaptFrom`).
 */
export function withRecordedBefore(
  comparison: AdaptComparison,
  photos: Pick<ReviewedPhoto, 'label' | 'gate' | 'modelLabel'>[],
): AdaptComparison {
  const tally = (of: typeof photos): AdaptTally => ({
    right: of.filter((p) => p.gate === 'eardrum' && p.modelLabel === p.label).length,
    rejected: of.filter((p) => p.gate === 'not_eardrum').length,
  });
  return {
    ...comparison,
    before: tally(photos),
    perLabel: comparison.perLabel.map((l) => ({
      ...l,
      before: tally(photos.filter((p) => p.label === l.label)),
    })),
  };
}

/** A candidate model's entry with the recorded answers as its "before". */
export function recordedBefore(entry: ModelEntry, photos: ReviewedPhoto[]): ModelEntry {
  return entry.comparison ? { ...entry, comparison: withRecordedBefore(entry.comparison, photos) } : entry;
}
