import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../model/backend.ts';
import { defaultModelDir } from '../../model/classifier.ts';
import { readModelCard } from '../../model/model-card.ts';
import { compileFusedForward } from '../../model/fused-forward.ts';
import { loadLayersModelFromDir } from '../../model/model-io.ts';

const worstDifference = (a: tf.Tensor[], b: tf.Tensor[]) =>
  Math.max(...a.map((t, i) => tf.max(tf.abs(tf.sub(t, b[i]!))).dataSync()[0]!));

beforeAll(async () => {
  await selectBackend();
});

describe('compileFusedForward', () => {
  let shipped: tf.LayersModel;
  let side: number;
  beforeAll(async () => {
    shipped = await loadLayersModelFromDir(defaultModelDir());
    side = (await readModelCard(defaultModelDir())).preprocessing.size;
  });
  afterAll(() => shipped?.dispose());

  it('gives the shipped network the same outputs as model.predict, in the same order', () => {
    const forward = compileFusedForward(shipped);
    expect(forward).not.toBeNull();
    const x = tf.randomNormal([2, side, side, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
    const expected = shipped.predict(x) as tf.Tensor[];
    const actual = forward!(x);
    expect(actual.map((t) => t.shape)).toEqual(expected.map((t) => t.shape));
    expect(worstDifference(actual, expected)).toBeLessThan(1e-3);
    tf.dispose([x, ...expected, ...actual]);
  });

  it('leaves no tensors behind', () => {
    const forward = compileFusedForward(shipped)!;
    const x = tf.zeros([1, side, side, 3]) as tf.Tensor4D;
    tf.dispose(forward(x));
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.dispose(forward(x));
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('handles asymmetric padding, plain ReLU and a ReLU feeding two layers', () => {
    const input = tf.input({ shape: [9, 9, 3] });
    const padded = tf.layers
      .zeroPadding2d({
        padding: [
          [0, 1],
          [0, 1],
        ],
      })
      .apply(input);
    const conv = tf.layers
      .conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'valid' })
      .apply(padded) as tf.SymbolicTensor;
    const relu = tf.layers.reLU().apply(conv) as tf.SymbolicTensor;
    const dw = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same' }).apply(relu);
    const sum = tf.layers.add().apply([relu, dw as tf.SymbolicTensor]) as tf.SymbolicTensor;
    const pooled = tf.layers.globalAveragePooling2d({}).apply(sum);
    const out = tf.layers.dense({ units: 2 }).apply(pooled) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: [relu, out] });
    const forward = compileFusedForward(model);
    expect(forward).not.toBeNull();
    const x = tf.randomNormal([1, 9, 9, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const expected = model.predict(x) as tf.Tensor[];
    const actual = forward!(x);
    expect(worstDifference(actual, expected)).toBeLessThan(1e-5);
    tf.dispose([x, ...expected, ...actual]);
    model.dispose();
  });

  it('declines a model with layers it does not know, so the caller falls back to predict', () => {
    const input = tf.input({ shape: [8, 8, 3] });
    const bn = tf.layers.batchNormalization().apply(input) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: bn });
    expect(compileFusedForward(model)).toBeNull();
    model.dispose();
  });
});
