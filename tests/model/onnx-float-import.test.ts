import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultModelDir, EardrumClassifier } from '../../model/classifier.ts';
import { readModelCard, type ModelCard } from '../../model/model-card.ts';
import { compileFusedForward } from '../../model/fused-forward.ts';
import { loadLayersModelFromDir } from '../../model/model-io.ts';
import { convertOnnxGraph } from '../../model/onnx/onnx-to-layers.ts';
import { OnnxDataType, readOnnxModel, type OnnxModel, type OnnxNode } from '../../model/onnx/onnx-proto.ts';
import {
  checkParity,
  parityViews,
  resolvePhoto,
  TRAINING_VIEW_CONFIG,
  type ParityRecord,
} from '../../model/onnx/parity.ts';
import { sharedDir } from '../../model/paths.ts';
import type { PreprocessConfig } from '../../model/preprocess.ts';
import { convertTrainedNetwork, importTrainedNetwork } from '../../model/onnx/trained-network.ts';
import { useWasmBackend } from '../../model/onnx/wasm-backend.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const fixtures = path.join(repoRoot, 'tests/model/fixtures/onnx');
const TINY_NET = path.join(fixtures, 'tiny-eardrum-net.onnx');
const OTHER_OPS = path.join(fixtures, 'tiny-other-ops.onnx');
/** A full-size export and its parity.json from model/trainer/train.py, when a developer has one here. */
const shippedDir = defaultModelDir();
const shippedParity = path.join(shippedDir, 'parity.json');

type Expected = Record<string, number[][] | number[][][]>;
const expectedFor = async (onnxFile: string): Promise<Expected> =>
  JSON.parse(await readFile(onnxFile.replace(/\.onnx$/, '.json'), 'utf8')) as Expected;

/** The fixtures' input, computed as make-fixtures.py does: float32(2 sin(0.37 i)) over NCHW, as NHWC. */
function sineInput(n: number, size: number): tf.Tensor4D {
  const data = Float32Array.from({ length: n * 3 * size * size }, (_, i) => 2 * Math.sin(0.37 * i));
  return tf.tidy(() => tf.tensor4d(data, [n, 3, size, size]).transpose([0, 2, 3, 1]));
}

const worst = (a: tf.Tensor, b: tf.TensorLike | tf.Tensor) =>
  tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);

/** A 4-D output against the fixture's per-channel mean and first channel (NCHW [n][h][w]). */
function mapDifference(map: tf.Tensor, expected: Expected, key: string): number {
  return tf.tidy(() =>
    Math.max(
      worst(tf.mean(map, [1, 2]), expected[`${key}:mean_hw`]!),
      worst(map.slice([0, 0, 0, 0], [-1, -1, -1, 1]).squeeze([3]), expected[`${key}:channel0`]!),
    ),
  );
}

function fusedVsPredict(model: tf.LayersModel, x: tf.Tensor4D): number {
  const forward = compileFusedForward(model);
  expect(forward, 'the converted network compiles to the fused pass').not.toBeNull();
  const a = model.predict(x) as tf.Tensor[];
  const b = forward!(x);
  const d = Math.max(...a.map((t, i) => worst(t, b[i]!)));
  tf.dispose([...a, ...b]);
  return d;
}

/** The model's own outputs on the photos' views, in a parity record's layout. */
async function ownOutputs(model: tf.LayersModel, files: string[], cfg: PreprocessConfig) {
  const datasets = path.join(sharedDir(), 'datasets');
  const x = await parityViews(
    files.map((f) => resolvePhoto(datasets, f)),
    cfg,
    320,
  );
  const [map, cls, gate] = model.predict(x) as tf.Tensor[];
  const out = {
    class_logits: cls!.arraySync() as number[][],
    gate_logit: (gate!.arraySync() as number[][]).map((r) => r[0]!),
    pooled: tf.tidy(() => tf.mean(map!, [1, 2]).slice([0, 0], [-1, 8]).arraySync() as number[][]),
  };
  tf.dispose([x, map!, cls!, gate!]);
  return out;
}

beforeAll(async () => {
  await useWasmBackend();
});

describe('float ONNX from torch.onnx.export -> TF.js layers', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'onnx-float-'));
  });
  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('converts an export built like train.py’s to the classifier’s layout, equal to PyTorch', async () => {
    const { model, summary } = convertTrainedNetwork(await readOnnxModel(TINY_NET));
    expect(summary.opCounts).toEqual({ Conv: 7, Constant: 10, Clip: 5, Add: 1, ReduceMean: 1, Gemm: 2 });
    expect(summary).toMatchObject({ conv2d: 5, depthwiseConv2d: 2, relu6: 5, add: 1, dense: 2 });
    expect(model.outputNames).toEqual(['feature_map', 'class_logits', 'gate_logit']);
    expect(model.inputs[0]!.shape).toEqual([null, 24, 24, 3]);
    expect(model.outputs.map((o) => o.shape)).toEqual([
      [null, 6, 6, 1280],
      [null, 4],
      [null, 1],
    ]);
    expect(model.getLayer('class_logits').getClassName()).toBe('Dense');
    expect(model.getLayer('gate_logit').getClassName()).toBe('Dense');

    const expected = await expectedFor(TINY_NET);
    const x = sineInput(2, 24);
    const [map, cls, gate] = model.predict(x) as tf.Tensor[];
    expect(mapDifference(map!, expected, 'feature_map')).toBeLessThan(1e-4);
    expect(worst(cls!, expected.class_logits!)).toBeLessThan(1e-4);
    expect(worst(gate!, expected.gate_logit!)).toBeLessThan(1e-4);
    expect(fusedVsPredict(model, x)).toBeLessThan(1e-5);
    tf.dispose([x, map!, cls!, gate!]);
    model.dispose();
  });

  it('converts Relu, GlobalAveragePool, Flatten, a view(N, -1) Reshape, MatMul + Add and a min-only Clip', async () => {
    const onnx = await readOnnxModel(OTHER_OPS);
    const outputs = ['map', 'matmul_add', 'flat_head'];
    const { model, summary } = convertOnnxGraph(onnx, { outputs, modelName: 'other_ops' });
    expect(summary).toMatchObject({ conv2d: 2, relu: 3, add: 1, dense: 2 });
    const expected = await expectedFor(OTHER_OPS);
    const x = sineInput(2, 8);
    const [map, matmulAdd, flatHead] = model.predict(x) as tf.Tensor[];
    expect(mapDifference(map!, expected, 'map')).toBeLessThan(1e-5);
    expect(worst(matmulAdd!, expected.matmul_add!)).toBeLessThan(1e-5);
    // Flattening an NCHW map: a wrong channel order would change this head's output entirely.
    expect(worst(flatHead!, expected.flat_head!)).toBeLessThan(1e-5);
    tf.dispose([x, map!, matmulAdd!, flatHead!]);
    expect(() => convertTrainedNetwork(onnx)).toThrow(/missing feature_map, class_logits, gate_logit/);
    model.dispose();
  });

  it('saves the converted network as a model folder that loads back with the same outputs', async () => {
    const dir = path.join(tmp, 'tiny');
    const model = await importTrainedNetwork(TINY_NET, dir);
    const loaded = await loadLayersModelFromDir(dir);
    expect(loaded.outputNames).toEqual(model.outputNames);
    const x = sineInput(1, 24);
    const a = model.predict(x) as tf.Tensor[];
    const b = loaded.predict(x) as tf.Tensor[];
    expect(Math.max(...a.map((t, i) => worst(t, b[i]!)))).toBe(0);
    tf.dispose([x, ...a, ...b]);
    model.dispose();
    loaded.dispose();
  });

  it('runs in EardrumClassifier (fused pass, class activation map) under a card naming feature_map', async () => {
    const dir = path.join(tmp, 'classifier');
    (await importTrainedNetwork(TINY_NET, dir)).dispose();
    const card = await readModelCard(shippedDir);
    // No not-sure rule: this tiny network has no reference features.
    const { notSure: _notSure, ...rest } = card;
    const tinyCard: ModelCard = {
      ...rest,
      labels: card.labels.slice(0, 4),
      preprocessing: { ...card.preprocessing, size: 24 },
      outputs: {
        featureMaps: ['feature_map'],
        classLogits: 'class_logits',
        gateLogit: 'gate_logit',
        classKernelLayer: 'class_logits',
      },
      thresholds: { eardrum: 0, minBrightP95: 0, maxClipped: 1, minSharpness: 0, minSide: 1 },
    };
    await writeFile(path.join(dir, 'model-card.json'), JSON.stringify(tinyCard));
    const classifier = await EardrumClassifier.load(dir);
    try {
      const photo = resolvePhoto(path.join(sharedDir(), 'datasets'), 'aom/02ba20b221527826.jpg');
      const d = await classifier.diagnose(photo);
      expect(d.gate).toBe('eardrum');
      expect(Object.keys(d.probabilities)).toHaveLength(4);
      expect(d.heatmap).toMatchObject({ rows: 6, cols: 6 });
      expect(d.decision).toBeNull();
    } finally {
      classifier.dispose();
    }
  });

  describe('op handling on hand-built graphs', () => {
    const node = (opType: string, inputs: string[], output: string, attrs: object = {}): OnnxNode => ({
      name: output,
      opType,
      domain: '',
      inputs,
      outputs: [output],
      attributes: new Map(Object.entries(attrs)),
    });
    const graph = (
      nodes: OnnxNode[],
      weights: Record<string, [number[], number[]]>,
      channels = 2,
    ): OnnxModel => ({
      irVersion: 7,
      producerName: 'test',
      producerVersion: '',
      opsets: [{ domain: '', version: 6 }],
      graph: {
        name: 'g',
        nodes,
        initializers: new Map(
          Object.entries(weights).map(([name, [dims, values]]) => [
            name,
            { name, dims, dataType: OnnxDataType.FLOAT, data: Float32Array.from(values) },
          ]),
        ),
        inputs: [{ name: 'x', elemType: 1, shape: ['N', channels, 3, 3] }],
        outputs: [{ name: nodes.at(-1)!.outputs[0]!, elemType: 1, shape: undefined }],
        valueInfo: [],
      },
    });
    const conv1x1 = {
      w: [
        [2, 2, 1, 1],
        [1, 2, 3, -4],
      ] as [number[], number[]],
      b: [[2], [0.5, -1]] as [number[], number[]],
    };

    it('reads Clip bounds from attributes (opset < 11) and passes Identity through, channels in NCHW order', () => {
      const onnx = graph(
        [
          node('Conv', ['x', 'w', 'b'], 'c'),
          node('Clip', ['c'], 'r', { min: 0, max: 6 }),
          node('Identity', ['r'], 'y'),
        ],
        conv1x1,
      );
      const { model, summary } = convertOnnxGraph(onnx, { outputs: ['y'], modelName: 'clip_attr' });
      expect(summary.relu6).toBe(1);
      // Pixel (channel 0, channel 1) = (1, 2) and (-3, 0.25): y0 = x0 + 2 x1 + 0.5, y1 = 3 x0 - 4 x1 - 1.
      const x = tf.tensor4d([1, 2, -3, 0.25, ...new Array(14).fill(0)], [1, 3, 3, 2]);
      const y = (model.predict(x) as tf.Tensor).arraySync() as number[][][][];
      expect(y[0]![0]![0]).toEqual([5.5, 0]); // y1 = -6 clipped to 0
      expect(y[0]![0]![1]).toEqual([0, 0]); // y0 = -2 clipped
      expect(y[0]![1]![1]).toEqual([0.5, 0]);
      tf.dispose([x]);
      model.dispose();
    });

    it('refuses what it cannot reproduce exactly, naming the node', () => {
      const clip = (min: number) =>
        graph([node('Conv', ['x', 'w', 'b'], 'c'), node('Clip', ['c'], 'y', { min, max: 6 })], conv1x1);
      expect(() => convertOnnxGraph(clip(-1), { outputs: ['y'], modelName: 'm' })).toThrow(
        /Clip y: only Clip\(0, max\)/,
      );
      const grouped = graph(
        [node('Conv', ['x', 'w'], 'y', { group: 2 })],
        { w: [[4, 2, 1, 1], new Array(8).fill(1)] },
        4,
      );
      expect(() => convertOnnxGraph(grouped, { outputs: ['y'], modelName: 'm' })).toThrow(/Conv y: group 2/);
      const unknown = graph([node('HardSwish', ['x'], 'y')], {});
      expect(() => convertOnnxGraph(unknown, { outputs: ['y'], modelName: 'm' })).toThrow(
        /unsupported ops: HardSwish/,
      );
      const mean = graph([node('ReduceMean', ['x'], 'y', { axes: [1] })], {});
      expect(() => convertOnnxGraph(mean, { outputs: ['y'], modelName: 'm' })).toThrow(
        /only the mean over H and W/,
      );
    });
  });

  it('checkParity compares the app’s views of real photos with a record, output by output', async () => {
    const model = convertTrainedNetwork(await readOnnxModel(TINY_NET)).model;
    const files = ['aom/02ba20b221527826.jpg', 'fundus/024818861562a800.jpg'];
    const preprocessing = { ...TRAINING_VIEW_CONFIG, size: 24 };
    const zeros = (n: number) => files.map(() => new Array<number>(n).fill(0));
    const blank: ParityRecord = {
      files,
      class_logits: zeros(4),
      gate_logit: [0, 0],
      pooled_first8: zeros(8),
    };
    const first = await checkParity(model, blank, undefined, { preprocessing });
    expect(first.path).toBe('fused');
    expect(first.fusedVsPredict).toBeLessThan(1e-5);
    expect(first.classLogits).toBeGreaterThan(0);
    // Record the model's own outputs, then move one gate logit: only that difference shows.
    const { class_logits, gate_logit, pooled } = await ownOutputs(model, files, preprocessing);
    const record: ParityRecord = {
      files,
      class_logits,
      gate_logit: [gate_logit[0]!, gate_logit[1]! + 0.5],
      pooled_first8: pooled,
    };
    const report = await checkParity(model, record, undefined, { preprocessing });
    expect(report.classLogits).toBeLessThan(1e-6);
    expect(report.pooled).toBeLessThan(1e-6);
    expect(report.gateLogit).toBeCloseTo(0.5, 5);
    await expect(
      checkParity(model, { ...record, files: ['aom/missing.jpg', files[1]!] }, undefined, { preprocessing }),
    ).rejects.toThrow(/not found/);
    await expect(checkParity(model, { ...record, gate_logit: [0] })).rejects.toThrow(/one entry per file/);
    model.dispose();
  });

  it('the shipped model folder matches its parity.json within 1e-3', async () => {
    expect(existsSync(shippedParity)).toBe(true);
    const report = await checkParity(shippedDir, shippedParity);
    expect(report.path).toBe('fused');
    expect(Math.max(report.classLogits, report.gateLogit, report.pooled)).toBeLessThan(1e-3);
    expect(report.fusedVsPredict).toBeLessThan(1e-3);
  });
});
