import type { EardrumClassifier } from '../classifier.ts';
import type { Sample } from '../data/dataset.ts';
import { ImageInputError } from '../errors.ts';
import {
  classificationReport,
  expectedCalibrationError,
  rocAuc,
  type ClassificationReport,
  softmax,
  type ReliabilityBin,
} from './metrics.ts';

export interface ImageOutcome {
  file: string;
  truth: string;
  source?: string;
  gate: 'eardrum' | 'not_eardrum' | 'ungradable' | 'error';
  gateReason?: string;
  label: string | null;
  probabilities: Record<string, number>;
  eardrumProbability: number;
  decision: 'confident' | 'not_sure' | null;
  decodeMs: number;
  inferenceMs: number;
  error?: string;
}

export interface GateSummary {
  label: string;
  total: number;
  eardrum: number;
  notEardrum: number;
  ungradable: number;
  errors: number;
  /** Share rejected (not_eardrum or ungradable). */
  rejected: number;
}

export interface EvaluationReport {
  images: number;
  modelLabels: string[];
  /** Labels present in the data that the model cannot output (counted, never crashing). */
  unknownLabels: string[];
  negativeLabels: string[];
  /** Over images whose label the model knows and that passed the gate. */
  classification: ClassificationReport | null;
  /** Accuracy with gate rejections of known-label eardrum images counted as errors. */
  endToEndAccuracy: number | null;
  normalVsAbnormalAuc: number | null;
  ece: number | null;
  /** ECE of the uncalibrated logits (before temperature scaling); null unless the temperature was given. */
  eceBeforeTemperature: number | null;
  reliability: ReliabilityBin[];
  gate: GateSummary[];
  /** For negatives (labels in `negativeLabels`): the share rejected. */
  negativeRejectionRate: number | null;
  /** For known-label eardrum images: the share rejected. */
  eardrumRejectionRate: number | null;
  perSource: { source: string; images: number; accuracy: number; macroF1: number; auc: number | null }[];
  /** 95% bootstrap interval of the macro-F1 (graded images resampled; small labels make it wide). */
  macroF1Interval: [number, number] | null;
  /**
   * Answers the model stood by (`decision` confident): their share of known-label eardrum photos and their
   * accuracy. Null when the model has no not-sure rule.
   */
  confident: { coverage: number; accuracy: number; images: number } | null;
  latency: { decodeP50: number; decodeP95: number; inferenceP50: number; inferenceP95: number };
}

export async function diagnoseAll(
  classifier: EardrumClassifier,
  samples: Sample[],
  onProgress?: (done: number, total: number) => void,
): Promise<ImageOutcome[]> {
  const out: ImageOutcome[] = [];
  for (const s of samples) {
    try {
      const d = await classifier.diagnose(s.file);
      out.push({
        file: s.file,
        truth: s.label,
        source: s.source,
        gate: d.gate,
        gateReason: d.gateReason,
        label: d.label,
        probabilities: d.probabilities,
        eardrumProbability: d.eardrumProbability,
        decision: d.decision,
        decodeMs: d.timings.decodeMs,
        inferenceMs: d.timings.inferenceMs,
      });
    } catch (err) {
      if (!(err instanceof ImageInputError)) throw err;
      out.push({
        file: s.file,
        truth: s.label,
        source: s.source,
        gate: 'error',
        label: null,
        probabilities: {},
        eardrumProbability: 0,
        decision: null,
        decodeMs: 0,
        inferenceMs: 0,
        error: `${err.code}: ${err.message}`,
      });
    }
    onProgress?.(out.length, samples.length);
  }
  return out;
}

/** 95% percentile-bootstrap interval of `stat` over `n` items (seeded, so reports are reproducible). */
export function bootstrapInterval(
  n: number,
  stat: (pick: number[]) => number,
  rounds = 1000,
  seed = 12345,
): [number, number] {
  let state = seed >>> 0;
  const rand = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const values: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const pick = Array.from({ length: n }, () => Math.floor(rand() * n));
    values.push(stat(pick));
  }
  values.sort((a, b) => a - b);
  return [values[Math.floor(0.025 * rounds)]!, values[Math.floor(0.975 * rounds) - 1]!];
}

function quantile(values: number[], q: number): number {
  if (!values.length) return 0;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

/**
 * Summarises outcomes. `negativeLabels` names the labels that are not eardrums at all (a folder of
 * negatives): those are scored only by whether the gate rejected them.
 */
export function summarise(
  outcomes: ImageOutcome[],
  modelLabels: string[],
  negativeLabels: string[] = [],
  /** The card's temperature: also reports the calibration error the raw logits would have had. */
  temperature?: number,
): EvaluationReport {
  const known = new Set(modelLabels);
  const negatives = new Set(negativeLabels);
  const dataLabels = [...new Set(outcomes.map((o) => o.truth))].sort();
  const unknownLabels = dataLabels.filter((l) => !known.has(l) && !negatives.has(l));

  const gate: GateSummary[] = dataLabels.map((label) => {
    const rows = outcomes.filter((o) => o.truth === label);
    const count = (g: ImageOutcome['gate']) => rows.filter((o) => o.gate === g).length;
    const rejected = count('not_eardrum') + count('ungradable');
    return {
      label,
      total: rows.length,
      eardrum: count('eardrum'),
      notEardrum: count('not_eardrum'),
      ungradable: count('ungradable'),
      errors: count('error'),
      rejected: rows.length ? rejected / rows.length : 0,
    };
  });

  const neg = outcomes.filter((o) => negatives.has(o.truth));
  const eardrums = outcomes.filter((o) => known.has(o.truth));
  const isRejected = (o: ImageOutcome) => o.gate === 'not_eardrum' || o.gate === 'ungradable';
  const graded = eardrums.filter((o) => o.gate === 'eardrum' && o.label);

  /** Classification report and normal-vs-abnormal AUC over graded outcomes (abnormal score: 1 − P(normal)). */
  const score = (rows: ImageOutcome[]) => {
    const report = classificationReport(
      rows.map((o) => o.truth),
      rows.map((o) => o.label!),
      modelLabels,
    );
    const a = rocAuc(
      rows.map((o) => 1 - (o.probabilities.normal ?? 0)),
      rows.map((o) => o.truth !== 'normal'),
    );
    return { report, auc: Number.isNaN(a) ? null : a };
  };

  let classification: ClassificationReport | null = null;
  let auc: number | null = null;
  let ece: number | null = null;
  let reliability: ReliabilityBin[] = [];
  let eceBeforeTemperature: number | null = null;
  if (graded.length) {
    ({ report: classification, auc } = score(graded));
    const calib = expectedCalibrationError(
      graded.map((o) => o.probabilities[o.label!] ?? 0),
      graded.map((o) => o.label === o.truth),
    );
    ece = calib.ece;
    reliability = calib.bins;
    if (temperature) {
      // softmax(z / T) = p, so softmax(T · log p) is the softmax of the raw logits z.
      const raw = graded.map((o) => {
        const p = modelLabels.map((l) => Math.max(1e-12, o.probabilities[l] ?? 0));
        return softmax(
          p.map((v) => Math.log(v)),
          1 / temperature,
        );
      });
      eceBeforeTemperature = expectedCalibrationError(
        raw.map((p) => Math.max(...p)),
        graded.map((o) => o.label === o.truth),
      ).ece;
    }
  }

  const sources = [...new Set(graded.map((o) => o.source).filter((s): s is string => !!s))].sort();
  const perSource = sources.map((source) => {
    const rows = graded.filter((o) => o.source === source);
    const { report, auc: sourceAuc } = score(rows);
    return {
      source,
      images: rows.length,
      accuracy: report.accuracy,
      macroF1: report.macroF1,
      auc: sourceAuc,
    };
  });

  const timed = outcomes.filter((o) => o.gate !== 'error');
  const decided = graded.filter((o) => o.decision !== null);
  const confidentRows = decided.filter((o) => o.decision === 'confident');
  return {
    macroF1Interval: graded.length
      ? bootstrapInterval(graded.length, (pick) => score(pick.map((i) => graded[i]!)).report.macroF1)
      : null,
    confident:
      decided.length && eardrums.length
        ? {
            coverage: confidentRows.length / eardrums.length,
            accuracy: confidentRows.length
              ? confidentRows.filter((o) => o.label === o.truth).length / confidentRows.length
              : 0,
            images: confidentRows.length,
          }
        : null,
    images: outcomes.length,
    modelLabels,
    unknownLabels,
    negativeLabels: [...negatives].filter((l) => dataLabels.includes(l)),
    classification,
    endToEndAccuracy: eardrums.length
      ? eardrums.filter((o) => o.gate === 'eardrum' && o.label === o.truth).length / eardrums.length
      : null,
    normalVsAbnormalAuc: auc,
    ece,
    eceBeforeTemperature,
    reliability,
    gate,
    negativeRejectionRate: neg.length ? neg.filter(isRejected).length / neg.length : null,
    eardrumRejectionRate: eardrums.length ? eardrums.filter(isRejected).length / eardrums.length : null,
    perSource,
    latency: {
      decodeP50: quantile(
        timed.map((o) => o.decodeMs),
        0.5,
      ),
      decodeP95: quantile(
        timed.map((o) => o.decodeMs),
        0.95,
      ),
      inferenceP50: quantile(
        timed.map((o) => o.inferenceMs),
        0.5,
      ),
      inferenceP95: quantile(
        timed.map((o) => o.inferenceMs),
        0.95,
      ),
    },
  };
}
