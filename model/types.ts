/**
 * Public types of the eardrum classifier. Everything outside `model/` (engine, CLI, UI contract)
 * depends on these shapes, not on TensorFlow.js.
 */

export type Gate = 'eardrum' | 'not_eardrum' | 'ungradable';

export type UngradableReason = 'too_dark' | 'overexposed' | 'blurred' | 'too_small';

/** Whether the model stands by its label, or hands the photo to the clinician without one. */
export type Decision = 'confident' | 'not_sure';

/** Why an answer is `not_sure`: a low calibrated top probability, or a photo unlike the training photos. */
export type NotSureReason = 'low_confidence' | 'unfamiliar';

export interface LabelInfo {
  /** Dataset label name, e.g. `normal`, `aom`, `effusion`. */
  id: string;
  en: string;
  ko: string;
  /** True for labels that mean "not a normal eardrum" in the normal-vs-abnormal sense. */
  abnormal: boolean;
}

export interface Heatmap {
  /** Grid height and width (the backbone's last feature map, e.g. 7x7). */
  rows: number;
  cols: number;
  /** Row-major activation values in [0, 1] for the top label. */
  values: number[];
  /**
   * PNG (RGBA) of the heatmap as a layer in the photo's own geometry: the upright photo's aspect ratio (at
   * most 512 px on its longest side), the model's crop mapped back onto the photo, transparent where the
   * activation is low and outside the model's field of view. It holds no photo pixels: laid over the photo
   * (stretched to the photo's box), it lines up with it.
   */
  overlayPng: Buffer;
}

export interface DiagnosisTimings {
  decodeMs: number;
  inferenceMs: number;
  totalMs: number;
}

export interface Diagnosis {
  gate: Gate;
  /** Set when gate is `ungradable`. */
  gateReason?: UngradableReason;
  /** Probability that the picture shows an eardrum at all (from the gate head). */
  eardrumProbability: number;
  /** Top label; null unless gate is `eardrum`. */
  label: string | null;
  /** Calibrated probabilities for every label in the model card; empty unless gate is `eardrum`. */
  probabilities: Record<string, number>;
  /**
   * `not_sure`: show "Not sure, needs a clinician" instead of the label (the probabilities still apply).
   * Null unless gate is `eardrum`, or when the model card has no not-sure rule (older models).
   */
  decision: Decision | null;
  /** Empty unless `decision` is `not_sure`. */
  notSureReasons: NotSureReason[];
  /** Distance from the training photos in feature space (see model/familiarity.ts); null when not measured. */
  unfamiliarity: number | null;
  /** Null unless gate is `eardrum`. */
  heatmap: Heatmap | null;
  image: { width: number; height: number; format: string };
  timings: DiagnosisTimings;
  model: { id: string; version: string; backend: string };
}
