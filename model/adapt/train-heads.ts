import type { DenseWeights } from './head-weights.ts';
import { fitSoftmaxRegression } from './softmax-regression.ts';

/** Rows of pooled features, row-major [rows x dim]. */
export interface FeatureRows {
  x: Float32Array;
  rows: number;
  dim: number;
}

/**
 * The base model's training split as features: every row has a label index into the model's labels (-1 for
 * an eardrum of a label the model dropped) and whether it is an eardrum at all (negatives are not).
 */
export interface ReferenceRows extends FeatureRows {
  labelIndex: Int32Array;
  eardrum: Uint8Array;
}

/** The clinic's photos as features, each with its label index. */
export interface ClinicRows extends FeatureRows {
  labelIndex: Int32Array;
}

export interface AdaptOptions {
  /** Loss weight of one clinic photo relative to one reference photo, for the class head. */
  clinicWeight: number;
  /** Loss weight of one clinic photo for the gate (it must learn that they are eardrums). */
  gateClinicWeight: number;
  classL2: number;
  gateL2: number;
  labelSmoothing: number;
  /** Pull the class head towards the base model's (instead of towards zero). */
  anchorClass: boolean;
  /** Pull the gate towards the base model's (instead of towards zero). */
  anchorGate: boolean;
  /** L-BFGS iterations at most, per head. */
  maxIterations: number;
  /** Seed of the cross-validation folds. */
  seed: number;
}

/**
 * Chosen on the validation splits of a leave-one-source-out experiment (model/README.md, "Adapting to a
 * clinic's otoscope"): a class head refitted with l2 0.1 beat 0.01–0.03 and a head anchored at the base
 * one; a gate anchored at the base gate kept every validation negative rejected where a gate refitted
 * from scratch let 3% through. The clinic weight (1–20) mattered little; 10 sits in the 5–20.
 */
export const DEFAULT_ADAPT_OPTIONS: AdaptOptions = {
  clinicWeight: 10,
  gateClinicWeight: 10,
  classL2: 0.1,
  gateL2: 1e-3,
  labelSmoothing: 0.05,
  anchorClass: false,
  anchorGate: true,
  maxIterations: 150,
  seed: 20261127,
};

export interface AdaptedHeads {
  classHead: DenseWeights;
  gate: DenseWeights;
}

/** Gives the thread back between iterations (the model worker diagnoses photos in between). */
export type Pause = () => Promise<void>;

/** Iterations `trainAdaptedHeads` runs at most, for progress bars. */
export function adaptSteps(o: AdaptOptions): number {
  return 2 * o.maxIterations;
}

/**
 * Trains the class head and the eardrum gate on the base model's training features together with the
 * clinic's photos, weighted up, so the new camera is learned and no label is forgotten.
 *
 * Class head: softmax regression over the reference eardrums of the model's labels plus the clinic photos
 * (`clinicWeight` each), classes weighted against imbalance as in training.
 * Gate: logistic regression, every reference eardrum and clinic photo (`gateClinicWeight` each) against the
 * reference negatives, the two sides balanced.
 * `onStep` is called once per iteration and once per iteration left unused when a fit converges early, so
 * it is called `adaptSteps(o)` times in all.
 */
export async function trainAdaptedHeads(
  ref: ReferenceRows,
  clinic: ClinicRows,
  classes: number,
  o: AdaptOptions,
  base: AdaptedHeads | null,
  pause: Pause = async () => undefined,
  onStep: () => void = () => undefined,
  /** Where the fits start (e.g. the heads fitted on all photos, for the cross-validation folds). */
  start?: AdaptedHeads,
): Promise<AdaptedHeads> {
  const d = ref.dim;
  if (clinic.dim !== d) throw new Error(`clinic features have ${clinic.dim} values, the reference ${d}`);
  const fit = async (
    x: Float32Array,
    n: number,
    y: Int32Array,
    units: number,
    l2: number,
    smoothing: number,
    classWeights: number[],
    sampleWeights: Float32Array,
    anchor: DenseWeights | null,
    from: DenseWeights | undefined,
  ) => {
    let used = 0;
    const head = await fitSoftmaxRegression(x, n, d, y, units, {
      l2,
      labelSmoothing: smoothing,
      maxIterations: o.maxIterations,
      classWeights,
      sampleWeights,
      ...(anchor ? { anchor } : {}),
      ...(from ? { start: from } : {}),
      onIteration: async () => {
        used++;
        onStep();
        await pause();
      },
    });
    for (; used < o.maxIterations; used++) onStep();
    return head;
  };

  const classRows: number[] = [];
  for (let r = 0; r < ref.rows; r++) if (ref.eardrum[r] && ref.labelIndex[r]! >= 0) classRows.push(r);
  const n = classRows.length + clinic.rows;
  const x = new Float32Array(n * d);
  const y = new Int32Array(n);
  const w = new Float32Array(n);
  classRows.forEach((r, i) => {
    x.set(ref.x.subarray(r * d, (r + 1) * d), i * d);
    y[i] = ref.labelIndex[r]!;
    w[i] = 1;
  });
  for (let i = 0; i < clinic.rows; i++) {
    const k = classRows.length + i;
    x.set(clinic.x.subarray(i * d, (i + 1) * d), k * d);
    y[k] = clinic.labelIndex[i]!;
    w[k] = o.clinicWeight;
  }
  const mass = new Array<number>(classes).fill(0);
  y.forEach((k, i) => (mass[k]! += w[i]!));
  const totalMass = mass.reduce((a, b) => a + b, 0);
  const classWeights = mass.map((m) => Math.sqrt(totalMass / Math.max(1, m)));
  const classHead = await fit(
    x,
    n,
    y,
    classes,
    o.classL2,
    o.labelSmoothing,
    classWeights,
    w,
    o.anchorClass && base ? base.classHead : null,
    start?.classHead,
  );

  const gn = ref.rows + clinic.rows;
  const gx = new Float32Array(gn * d);
  gx.set(ref.x.subarray(0, ref.rows * d), 0);
  gx.set(clinic.x.subarray(0, clinic.rows * d), ref.rows * d);
  const gy = new Int32Array(gn);
  const gw = new Float32Array(gn);
  for (let r = 0; r < ref.rows; r++) {
    gy[r] = ref.eardrum[r] ? 1 : 0;
    gw[r] = 1;
  }
  for (let i = 0; i < clinic.rows; i++) {
    gy[ref.rows + i] = 1;
    gw[ref.rows + i] = o.gateClinicWeight;
  }
  let pos = 0;
  let neg = 0;
  gy.forEach((v, i) => (v ? (pos += gw[i]!) : (neg += gw[i]!)));
  if (!neg) throw new Error('the reference features hold no negatives (photos that are not eardrums)');
  const gateAnchor = o.anchorGate && base ? twoClass(base.gate) : null;
  const gate2 = await fit(
    gx,
    gn,
    gy,
    2,
    o.gateL2,
    0,
    [(pos + neg) / (2 * neg), (pos + neg) / (2 * pos)],
    gw,
    gateAnchor,
    start ? twoClass(start.gate) : undefined,
  );
  // Two-class softmax → one logit: z = (w1 − w0)·x + (b1 − b0).
  const gateKernel = new Float32Array(d);
  for (let j = 0; j < d; j++) gateKernel[j] = gate2.kernel[j * 2 + 1]! - gate2.kernel[j * 2]!;
  const gate: DenseWeights = {
    kernel: gateKernel,
    bias: Float32Array.of(gate2.bias[1]! - gate2.bias[0]!),
    inputs: d,
    units: 1,
  };
  return { classHead, gate };
}

/** A one-logit gate as a two-class softmax: columns −g/2 and +g/2 have the same logit difference g. */
function twoClass(gate: DenseWeights): DenseWeights {
  const d = gate.inputs;
  return {
    kernel: Float32Array.from({ length: 2 * d }, (_, k) => ((k % 2 ? 1 : -1) * gate.kernel[k >> 1]!) / 2),
    bias: Float32Array.of(-gate.bias[0]! / 2, gate.bias[0]! / 2),
    inputs: d,
    units: 2,
  };
}

/** Logits of a dense layer for one feature row. */
export function denseLogits(w: DenseWeights, x: Float32Array, row = 0): Float32Array {
  const out = Float32Array.from(w.bias);
  const base = row * w.inputs;
  for (let j = 0; j < w.inputs; j++) {
    const v = x[base + j]!;
    if (!v) continue;
    const k = j * w.units;
    for (let u = 0; u < w.units; u++) out[u]! += v * w.kernel[k + u]!;
  }
  return out;
}
