import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeOnnxModel, readOnnxModel, type OnnxModel } from '../../model/onnx/onnx-proto';
import {
  convertMobileNetV2,
  featureMapModel,
  MOBILENETV2_100_INFO,
  MOBILENETV2_100_INPUT,
  normalizeRgbForMobileNetV2,
} from '../../model/onnx/mobilenetv2-from-onnx';
import { loadLayersModelFromDir, saveLayersModel } from '../../model/onnx/layers-model-files';
import { useWasmBackend } from '../../model/onnx/wasm-backend';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const shared = path.resolve(repoRoot, '../shared');
const onnxPath = path.join(shared, 'models/mobilenetv2-100-int8-onnx/mobilenetv2-12-int8.onnx');
const photo = (id: string) => path.join(shared, 'datasets/not-eardrum/photo', `${id}.jpg`);
const CAT = photo('596aa1e7cb875eb7');
const ESPRESSO = photo('cc02f8ca188b167c');

async function inputFor(file: string): Promise<tf.Tensor4D> {
  const { size } = MOBILENETV2_100_INPUT;
  const rgb = await sharp(file).removeAlpha().resize(size, size, { fit: 'cover' }).raw().toBuffer();
  return tf.tensor4d(normalizeRgbForMobileNetV2(rgb), [1, size, size, 3]);
}

function top5(logits: tf.Tensor): number[] {
  return Array.from(tf.topk(logits, 5).indices.dataSync());
}

describe('MobileNetV2-1.0 int8 ONNX -> TF.js', () => {
  let onnx: OnnxModel;
  let model: tf.LayersModel;
  let summary: ReturnType<typeof convertMobileNetV2>['summary'];
  let tmp: string;

  beforeAll(async () => {
    await useWasmBackend();
    onnx = await readOnnxModel(onnxPath);
    ({ model, summary } = convertMobileNetV2(onnx));
    tmp = await mkdtemp(path.join(os.tmpdir(), 'onnx-import-'));
  });

  afterAll(async () => {
    model?.dispose();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('decodes the ONNX graph with its quantized initializers', () => {
    expect(tf.getBackend()).toBe('wasm');
    expect(onnx.graph.inputs[0]?.shape).toEqual(['batch_size', 3, 224, 224]);
    expect(onnx.graph.outputs[0]?.name).toBe('output');
    const stem = onnx.graph.initializers.get('475_quantized');
    expect(stem?.dims).toEqual([32, 3, 3, 3]);
    expect(stem?.data).toBeInstanceOf(Int8Array);
    expect(onnx.graph.initializers.get('476_quantized')?.data).toBeInstanceOf(Int32Array);
  });

  it('rebuilds the MobileNetV2 structure: ReLU6 after expand/depthwise convs, linear projections, residual adds', () => {
    expect(summary.conv2d).toBe(35);
    expect(summary.depthwiseConv2d).toBe(17);
    expect(summary.relu6).toBe(35); // stem + 17 depthwise + 16 expand + last 1x1
    expect(summary.add).toBe(10);
    expect(summary.dense).toBe(1);
    expect(model.outputs.map((o) => o.shape)).toEqual([
      [null, 7, 7, 1280],
      [null, 1000],
    ]);
    expect(model.countParams()).toBe(3_487_816);
  });

  it('places ReLU6 exactly where the exported PyTorch graph had a Clip (the missing node numbers)', () => {
    // torchvision's export numbered nodes Conv_k, Clip_k+1, ...; quantization fused each Clip into its conv,
    // so a conv has a ReLU6 exactly when node number k+1 no longer exists.
    const numbers = new Set(onnx.graph.nodes.map((n) => Number(/_(\d+)/.exec(n.name)?.[1])));
    const convs = onnx.graph.nodes.filter((n) => n.opType === 'QLinearConv');
    expect(convs).toHaveLength(52);
    for (const conv of convs) {
      const k = Number(/^Conv_(\d+)_quant$/.exec(conv.name)?.[1]);
      expect(Number.isInteger(k), conv.name).toBe(true);
      const layerNames = model.layers.map((l) => l.name);
      expect(layerNames.includes(`onnx_Conv_${k}_relu6`), conv.name).toBe(!numbers.has(k + 1));
    }
  });

  it('puts the cat photo in tabby / Egyptian cat and the coffee photo in espresso (top-5)', async () => {
    for (const [file, classes] of [
      [CAT, [281, 285]],
      [ESPRESSO, [967]],
    ] as const) {
      const x = await inputFor(file);
      const [features, logits] = model.predict(x) as tf.Tensor[];
      const best = top5(logits!);
      expect(
        best.some((c) => (classes as readonly number[]).includes(c)),
        `${file}: top-5 ${best.join(',')}`,
      ).toBe(true);
      // The feature map is a ReLU6 output.
      expect(features!.min().dataSync()[0]).toBeGreaterThanOrEqual(0);
      expect(features!.max().dataSync()[0]).toBeLessThanOrEqual(6);
      // Logits are the head applied to the pooled feature map.
      const dense = model.layers.find((l) => l.getClassName() === 'Dense')!;
      const [k, b] = dense.getWeights();
      const again = tf.add(tf.matMul(tf.mean(features!, [1, 2]), k!), b!);
      expect(tf.max(tf.abs(tf.sub(again, logits!))).dataSync()[0]).toBeLessThan(1e-3);
      tf.dispose([x, features!, logits!, again]);
    }
  });

  it('saves a model folder (float16) and loads it back with close outputs', async () => {
    const dir = path.join(tmp, 'mobilenetv2-100');
    await saveLayersModel(model, dir, { weightEncoding: 'float16' });
    const bytes = (await stat(path.join(dir, 'weights.bin'))).size;
    expect(bytes).toBe(model.countParams() * 2);
    const loaded = await loadLayersModelFromDir(dir);
    const x = await inputFor(CAT);
    const [f1, l1] = model.predict(x) as tf.Tensor[];
    const [f2, l2] = loaded.predict(x) as tf.Tensor[];
    const cosine = tf.sum(tf.mul(f1!, f2!)).div(tf.norm(f1!).mul(tf.norm(f2!)));
    expect(cosine.dataSync()[0]).toBeGreaterThan(0.9999);
    expect(tf.max(tf.abs(tf.sub(l1!, l2!))).dataSync()[0]).toBeLessThan(0.5);
    expect(top5(l2!)[0]).toBe(top5(l1!)[0]);
    loaded.dispose();
    tf.dispose([x, f1!, l1!, f2!, l2!, cosine]);
  });

  it('offers a feature-map-only model and consistent 0..255 scaling constants', () => {
    const features = featureMapModel(model);
    expect(features.outputs.map((o) => o.shape)).toEqual([[null, 7, 7, 1280]]);
    const { mean, std, meanPixel, stdPixel } = MOBILENETV2_100_INPUT;
    for (let c = 0; c < 3; c++) {
      expect(meanPixel[c]).toBeCloseTo(mean[c]! * 255, 6);
      expect(stdPixel[c]).toBeCloseTo(std[c]! * 255, 6);
      expect(MOBILENETV2_100_INFO.mean[c]).toBe(meanPixel[c]);
      expect(MOBILENETV2_100_INFO.std[c]).toBe(stdPixel[c]);
    }
    // Normalizing a pixel: (v/255 - mean)/std == (v - meanPixel)/stdPixel.
    const px = normalizeRgbForMobileNetV2(new Uint8Array([0, 128, 255]), 1);
    expect(px[0]).toBeCloseTo((0 - meanPixel[0]) / stdPixel[0], 5);
    expect(px[1]).toBeCloseTo((128 - meanPixel[1]) / stdPixel[1], 5);
    expect(px[2]).toBeCloseTo((255 - meanPixel[2]) / stdPixel[2], 5);
  });

  it('fails loudly on an op it does not know and on bytes that are not ONNX', () => {
    const [first, ...rest] = onnx.graph.nodes;
    const altered: OnnxModel = {
      ...onnx,
      graph: { ...onnx.graph, nodes: [{ ...first!, opType: 'HardSwish' }, ...rest] },
    };
    expect(() => convertMobileNetV2(altered)).toThrow(/unsupported ops: HardSwish/);
    expect(() => decodeOnnxModel(new TextEncoder().encode('definitely not a protobuf model'))).toThrow();
  });

  it('refuses a ReLU-clipped output whose upper bound is not 6', () => {
    const yScaleName = onnx.graph.nodes.find((n) => n.name === 'Conv_0_quant')!.inputs[6]!;
    const yScale = onnx.graph.initializers.get(yScaleName)!;
    const initializers = new Map(onnx.graph.initializers);
    initializers.set(yScaleName, { ...yScale, data: new Float32Array([0.05]) }); // 255 * 0.05 = 12.75
    expect(() => convertMobileNetV2({ ...onnx, graph: { ...onnx.graph, initializers } })).toThrow(
      /not a ReLU6/,
    );
  });
});
