import type { EardrumClassifier } from '../classifier.ts';
import type { Sample } from '../data/dataset.ts';
import type { QualityStats } from '../quality.ts';
import { chooseGateThreshold, fitTemperature } from './calibration.ts';
import { progressLine } from './progress.ts';
import { qualityThresholds } from './quality-thresholds.ts';

export interface CalibrationResult {
  temperature: number;
  eardrumThreshold: number;
  valNegativesRejected: number;
  quality: ReturnType<typeof qualityThresholds>;
}

async function embedAll(classifier: EardrumClassifier, samples: Sample[], what: string) {
  const out = [];
  const started = Date.now();
  let last = 0;
  for (const s of samples) {
    out.push(await classifier.embed(s.file));
    if (Date.now() - last > 5000 || out.length === samples.length) {
      last = Date.now();
      process.stderr.write(`\r${progressLine(what, out.length, samples.length, started)}   `);
    }
  }
  process.stderr.write('\n');
  return out;
}

/**
 * What is fitted after the network, through the app's own inference path: the temperature (val eardrums of
 * known labels), the gate threshold (val eardrums may be rejected at most `maxEardrumRejection`), and the
 * quality floors (training eardrums).
 */
export async function calibrateNetwork(
  classifier: EardrumClassifier,
  data: { val: Sample[]; valNegatives: Sample[]; trainEardrumQuality: QualityStats[] },
  opts: { maxEardrumRejection: number; negativeRejection: number; qualityQuantile: number },
): Promise<CalibrationResult> {
  const labels = classifier.labels.map((l) => l.id);
  const valKnown = data.val.filter((s) => labels.includes(s.label));
  const val = await embedAll(classifier, data.val, 'val');
  const valNeg = await embedAll(classifier, data.valNegatives, 'val negatives');
  const k = labels.length;
  const known = val.filter((_, i) => labels.includes(data.val[i]!.label));
  const logits = new Float32Array(known.length * k);
  known.forEach((e, i) => logits.set(e.classLogits, i * k));
  const temperature = fitTemperature(
    logits,
    k,
    valKnown.map((s) => labels.indexOf(s.label)),
  );
  const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
  // As strict as the val eardrums allow, but no stricter than rejecting `negativeRejection` of the val
  // negatives needs: a photo from another otoscope scores lower than the training cameras' photos, and
  // every step above what the negatives need rejects more of them.
  const strictest = chooseGateThreshold(
    val.map((e) => sigmoid(e.gateLogit)),
    opts.maxEardrumRejection,
  );
  const negatives = valNeg.map((e) => sigmoid(e.gateLogit)).sort((a, b) => a - b);
  const needed = negatives.length
    ? negatives[Math.min(negatives.length - 1, Math.ceil(opts.negativeRejection * negatives.length) - 1)]! +
      1e-6
    : strictest;
  const eardrumThreshold = Math.max(0.01, Math.min(strictest, needed));
  const valNegativesRejected =
    valNeg.filter((e) => sigmoid(e.gateLogit) < eardrumThreshold).length / Math.max(1, valNeg.length);
  return {
    temperature,
    eardrumThreshold,
    valNegativesRejected,
    quality: qualityThresholds(data.trainEardrumQuality, opts.qualityQuantile),
  };
}
