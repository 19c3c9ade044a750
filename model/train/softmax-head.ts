import * as tf from '@tensorflow/tfjs';

export interface LinearHead {
  /** Weights [features x classes] and bias [classes] acting on the raw (un-standardised) features. */
  kernel: Float32Array;
  bias: Float32Array;
  features: number;
  classes: number;
}

export interface HeadTrainingOptions {
  l2: number;
  epochs: number;
  learningRate: number;
  batchSize: number;
  /** Loss weight per class (e.g. inverse frequency) against class imbalance. */
  classWeights: number[];
  /** Label smoothing keeps the head from becoming over-confident before temperature scaling. */
  labelSmoothing: number;
  seed: number;
  onEpoch?: (epoch: number, loss: number) => void;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
export { mulberry32 as seededRandom };

/**
 * Multinomial logistic regression on standardised features, trained with Adam in mini-batches.
 * The standardisation is folded back into the weights, so the shipped head is a plain dense layer
 * on the backbone's pooled features and its class activation maps stay exact.
 */
export function trainLinearHead(
  x: Float32Array,
  n: number,
  d: number,
  y: Int32Array,
  classes: number,
  o: HeadTrainingOptions,
): LinearHead {
  const rand = mulberry32(o.seed);
  const mean = new Float32Array(d);
  const std = new Float32Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += x[i * d + j]! / n;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) std[j]! += (x[i * d + j]! - mean[j]!) ** 2 / n;
  for (let j = 0; j < d; j++) std[j] = Math.sqrt(std[j]!) + 1e-3;

  const xs = tf.tidy(() => tf.tensor2d(x, [n, d]).sub(tf.tensor1d(mean)).div(tf.tensor1d(std)));
  const w = tf.variable(tf.randomNormal([d, classes], 0, 0.01, 'float32', o.seed));
  const b = tf.variable(tf.zeros([classes]));
  const optimizer = tf.train.adam(o.learningRate);
  const classW = tf.tensor1d(o.classWeights);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    let total = 0;
    let batches = 0;
    for (let start = 0; start < n; start += o.batchSize) {
      const idx = tf.tensor1d(order.slice(start, start + o.batchSize), 'int32');
      const labels = tf.gather(tf.tensor1d(y, 'int32'), idx);
      const loss = optimizer.minimize(() => {
        const logits = tf.gather(xs, idx).matMul(w).add(b);
        const target = tf
          .oneHot(labels, classes)
          .toFloat()
          .mul(1 - o.labelSmoothing)
          .add(o.labelSmoothing / classes);
        const perSample = tf.losses.softmaxCrossEntropy(target, logits, undefined, 0, tf.Reduction.NONE);
        const weights = tf.gather(classW, labels);
        const data = perSample.mul(weights).sum().div(weights.sum());
        return data.add(w.square().sum().mul(o.l2)) as tf.Scalar;
      }, true);
      total += loss!.dataSync()[0]!;
      batches++;
      tf.dispose([idx, labels, loss!]);
    }
    o.onEpoch?.(epoch, total / batches);
  }
  // Fold standardisation: logits = ((x - m) / s) W + b = x (W / s) + (b - (m / s) W)
  const folded = tf.tidy(() => {
    const ws = w.div(tf.tensor1d(std).expandDims(1));
    const bs = b.sub(tf.tensor1d(mean).expandDims(0).matMul(ws).squeeze([0]));
    return [ws.dataSync() as Float32Array, bs.dataSync() as Float32Array];
  });
  tf.dispose([xs, w, b, classW]);
  optimizer.dispose();
  return { kernel: Float32Array.from(folded[0]!), bias: Float32Array.from(folded[1]!), features: d, classes };
}

/**
 * A linear head whose weights are the mean of `members` heads trained from different seeds (initial
 * weights and batch order). A single short Adam run on ~900 pictures lands in a noisy spot (validation
 * accuracy moved by several points with the seed); the average is steadier and is still one dense layer,
 * so class activation maps stay exact.
 */
export function trainAveragedLinearHead(
  x: Float32Array,
  n: number,
  d: number,
  y: Int32Array,
  classes: number,
  o: HeadTrainingOptions,
  members: number,
): LinearHead {
  const heads = Array.from({ length: members }, (_, k) =>
    trainLinearHead(x, n, d, y, classes, { ...o, seed: o.seed + 101 * k }),
  );
  const mean = (pick: (h: LinearHead) => Float32Array) =>
    pick(heads[0]!).map((_, j) => heads.reduce((sum, h) => sum + pick(h)[j]!, 0) / members);
  return { kernel: mean((h) => h.kernel), bias: mean((h) => h.bias), features: d, classes };
}

export function headLogits(head: LinearHead, x: Float32Array, n: number): Float32Array {
  return tf
    .tidy(
      () =>
        tf
          .tensor2d(x, [n, head.features])
          .matMul(tf.tensor2d(head.kernel, [head.features, head.classes]))
          .add(tf.tensor1d(head.bias))
          .dataSync() as Float32Array,
    )
    .slice();
}
