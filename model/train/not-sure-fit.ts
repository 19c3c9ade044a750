import type { EardrumClassifier } from '../classifier.ts';
import type { Sample } from '../data/dataset.ts';
import { softmax } from '../eval/metrics.ts';
import { FamiliarityIndex } from '../familiarity.ts';
import { fitNotSureRule } from '../not-sure.ts';
import type { ReferenceEntry, ReferenceFeatures } from '../reference-features.ts';
import type { QualityStats } from '../quality.ts';
import { progressLine } from './progress.ts';

/** Settings of the not-sure rule, chosen on validation (see model/README.md). */
export const NOT_SURE_CONFIG = {
  /** Neighbours averaged by the familiarity index. */
  k: 10,
  /**
   * Validation eardrums at or below this quantile of unfamiliarity count as familiar: photos like the
   * training ones are almost never flagged, photos from elsewhere in feature space are.
   */
  familiarQuantile: 0.98,
  /**
   * Confident answers must reach this accuracy on validation. On the fine-tuned model's val split 0.92 kept
   * 59% of answers (0.93: 46%, 0.94: 28%); the accuracy of the remaining answers barely rose past 0.92.
   */
  targetAccuracy: 0.92,
};

/**
 * Pooled features of every sample's clean view through `classifier`: the model folder's reference set, with
 * each photo's quality measures (the trainer takes the quality floors from them).
 */
export async function buildReferenceFeatures(
  classifier: EardrumClassifier,
  samples: (Sample & { eardrum: boolean })[],
  label = 'reference features',
): Promise<ReferenceFeatures & { quality: QualityStats[] }> {
  const quality: QualityStats[] = [];
  const rows: Float32Array[] = [];
  const entries: ReferenceEntry[] = [];
  const started = Date.now();
  let last = 0;
  for (const s of samples) {
    const e = await classifier.embed(s.file);
    rows.push(e.features);
    quality.push(e.quality);
    entries.push({ label: s.label, source: s.source ?? '', eardrum: s.eardrum });
    if (Date.now() - last > 5000 || entries.length === samples.length) {
      last = Date.now();
      process.stderr.write(`\r${progressLine(label, entries.length, samples.length, started)}   `);
    }
  }
  process.stderr.write('\n');
  const dim = rows[0]?.length ?? 0;
  const x = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => x.set(r, i * dim));
  return { dim, rows: rows.length, x, entries, quality };
}

/**
 * Chooses the not-sure thresholds on validation eardrums of known labels, with `reference` as the
 * familiar photos. Returns the card's `notSure` section.
 */
export async function fitNotSure(
  classifier: EardrumClassifier,
  reference: ReferenceFeatures,
  valSamples: Sample[],
  temperature: number,
) {
  const labels = classifier.labels.map((l) => l.id);
  const index = new FamiliarityIndex(reference, NOT_SURE_CONFIG.k);
  const answers = [];
  for (const s of valSamples.filter((v) => labels.includes(v.label))) {
    const e = await classifier.embed(s.file);
    const p = softmax(e.classLogits, temperature);
    let top = 0;
    p.forEach((v, i) => (v > p[top]! ? (top = i) : 0));
    answers.push({
      confidence: p[top]!,
      unfamiliarity: index.unfamiliarity(e.features),
      correct: labels[top] === s.label,
    });
  }
  index.dispose();
  const rule = fitNotSureRule(answers, NOT_SURE_CONFIG);
  return {
    minConfidence: rule.minConfidence,
    maxUnfamiliarity: rule.maxUnfamiliarity,
    k: rule.k,
    method:
      'not sure when the calibrated top probability is below minConfidence, or when the photo is unfamiliar: ' +
      '1 − mean cosine similarity (features centred on the reference eardrums) to its k nearest reference eardrums ' +
      'above maxUnfamiliarity. Both chosen on the val split.',
    validation: {
      images: answers.length,
      coverage: rule.coverage,
      confidentAccuracy: rule.confidentAccuracy,
      overallAccuracy: answers.filter((a) => a.correct).length / answers.length,
      ...NOT_SURE_CONFIG,
    },
  };
}
