import * as tf from '@tensorflow/tfjs';
import type { DenseWeights } from './head-weights.ts';
import { minimizeLbfgs } from './lbfgs.ts';

export interface RegressionOptions {
  /** Penalty on the squared weights (of the standardised features). */
  l2: number;
  labelSmoothing: number;
  maxIterations: number;
  /** Loss weight per class (against imbalance). */
  classWeights: number[];
  /** Loss weight per row. */
  sampleWeights: Float32Array;
  /**
   * Weights (acting on raw features, like the result) that the penalty pulls towards instead of zero, and
   * where the fit starts: `l2`·‖W − W_anchor‖². Adapting the base model's head this way changes it only as
   * far as the new photos ask.
   */
  anchor?: DenseWeights;
  /** Where the fit starts (raw-feature weights); default the anchor, or zero. */
  start?: DenseWeights;
  /** Called after every iteration; may pause or throw to stop. */
  onIteration?: () => Promise<void> | void;
}

/**
 * Multinomial logistic regression fitted to convergence with L-BFGS on the whole batch: the loss is the
 * weighted mean cross-entropy on standardised features plus `l2`·‖W‖². Both matrix products run in TF.js
 * (the features and their transpose stay on the backend); the rest is plain loops. The standardisation is
 * folded into the returned dense weights, so they act on raw pooled features like the shipped heads.
 */
export async function fitSoftmaxRegression(
  x: Float32Array,
  n: number,
  d: number,
  y: Int32Array,
  classes: number,
  o: RegressionOptions,
): Promise<DenseWeights> {
  const mean = new Float64Array(d);
  const std = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += x[i * d + j]! / n;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) std[j]! += (x[i * d + j]! - mean[j]!) ** 2 / n;
  for (let j = 0; j < d; j++) std[j] = Math.sqrt(std[j]!) + 1e-3;
  const z = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) z[i * d + j] = (x[i * d + j]! - mean[j]!) / std[j]!;
  const zt = tf.tensor2d(z, [n, d]);
  const ztT = tf.tidy(() => zt.transpose());

  const weight = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    weight[i] = o.sampleWeights[i]! * o.classWeights[y[i]!]!;
    total += weight[i]!;
  }
  for (let i = 0; i < n; i++) weight[i]! /= total;
  const eps = o.labelSmoothing;
  const params = d * classes + classes;
  // Raw-feature weights in the standardised coordinates the fit works in: W_std = W·s, b_std = b + m·W.
  const standardised = (w: DenseWeights | undefined) => {
    const theta = new Float64Array(params);
    if (!w) return theta;
    if (w.inputs !== d || w.units !== classes) throw new Error('weights do not fit the features');
    for (let u = 0; u < classes; u++) theta[d * classes + u] = w.bias[u]!;
    for (let j = 0; j < d; j++)
      for (let u = 0; u < classes; u++) {
        const k = w.kernel[j * classes + u]!;
        theta[j * classes + u] = k * std[j]!;
        theta[d * classes + u]! += mean[j]! * k;
      }
    return theta;
  };
  const anchor = standardised(o.anchor);

  const objective = async (theta: Float64Array) => {
    const w = tf.tensor2d(Float32Array.from(theta.subarray(0, d * classes)), [d, classes]);
    const logitsT = tf.tidy(() => zt.matMul(w));
    const logits = (await logitsT.data()) as Float32Array;
    tf.dispose([w, logitsT]);
    const g = new Float32Array(n * classes);
    let loss = 0;
    const p = new Float64Array(classes);
    for (let i = 0; i < n; i++) {
      let max = -Infinity;
      for (let u = 0; u < classes; u++) {
        p[u] = logits[i * classes + u]! + theta[d * classes + u]!;
        max = Math.max(max, p[u]!);
      }
      let sum = 0;
      for (let u = 0; u < classes; u++) sum += p[u] = Math.exp(p[u]! - max);
      for (let u = 0; u < classes; u++) {
        const prob = p[u]! / sum;
        const target = (u === y[i] ? 1 - eps : 0) + eps / classes;
        if (target > 0) loss -= weight[i]! * target * Math.log(Math.max(prob, 1e-30));
        g[i * classes + u] = weight[i]! * (prob - target);
      }
    }
    const gt = tf.tensor2d(g, [n, classes]);
    const gwT = tf.tidy(() => ztT.matMul(gt));
    const gw = (await gwT.data()) as Float32Array;
    tf.dispose([gt, gwT]);
    const gradient = new Float64Array(params);
    let penalty = 0;
    for (let k = 0; k < d * classes; k++) {
      const off = theta[k]! - anchor[k]!;
      penalty += off * off;
      gradient[k] = gw[k]! + 2 * o.l2 * off;
    }
    for (let i = 0; i < n; i++)
      for (let u = 0; u < classes; u++) gradient[d * classes + u]! += g[i * classes + u]!;
    return { value: loss + o.l2 * penalty, gradient };
  };

  try {
    const { x: theta } = await minimizeLbfgs(objective, o.start ? standardised(o.start) : anchor, {
      maxIterations: o.maxIterations,
      gradientTolerance: 1e-6,
      relativeTolerance: 1e-7,
      history: 10,
      ...(o.onIteration ? { onIteration: o.onIteration } : {}),
    });
    // Fold standardisation: logits = ((x − m) / s) W + b = x (W / s) + (b − (m / s) W).
    const kernel = new Float32Array(d * classes);
    const bias = new Float32Array(classes);
    for (let u = 0; u < classes; u++) bias[u] = theta[d * classes + u]!;
    for (let j = 0; j < d; j++) {
      for (let u = 0; u < classes; u++) {
        const k = theta[j * classes + u]! / std[j]!;
        kernel[j * classes + u] = k;
        bias[u]! -= mean[j]! * k;
      }
    }
    return { kernel, bias, inputs: d, units: classes };
  } finally {
    tf.dispose([zt, ztT]);
  }
}
