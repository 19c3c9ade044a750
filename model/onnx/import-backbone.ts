/**
 * `npm run backbone:import`: converts the ONNX Model Zoo MobileNetV2-1.0 int8 backbone from ../shared into a
 * TF.js layers model folder under .cache/backbones/mobilenetv2-100/, with a provenance.json next to it.
 *
 * Options: --out <dir>, --onnx <file>, --float32 (default weight encoding is float16, about 7 MB).
 */
import { createHash } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { decodeOnnxModel } from './onnx-proto';
import {
  convertMobileNetV2,
  MOBILENETV2_100_INPUT,
  MOBILENETV2_FEATURE_TENSOR,
} from './mobilenetv2-from-onnx';
import { saveLayersModel, type WeightEncoding } from './layers-model-files';
import { useWasmBackend } from './wasm-backend';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SHARED_DIR = path.resolve(repoRoot, '../shared');
export const DEFAULT_ONNX_PATH = path.join(
  SHARED_DIR,
  'models/mobilenetv2-100-int8-onnx/mobilenetv2-12-int8.onnx',
);
export const DEFAULT_BACKBONE_DIR = path.join(repoRoot, '.cache/backbones/mobilenetv2-100');

export interface Provenance {
  network: string;
  source: { file: string; sha256: string; bytes: number };
  origin: string;
  upstream: string;
  licence: string;
  conversion: string;
  input: typeof MOBILENETV2_100_INPUT;
  outputs: { featureMap: string; logits: string };
  weightEncoding: WeightEncoding;
  parameters: number;
  createdAt: string;
}

export async function importBackbone(
  onnxPath = DEFAULT_ONNX_PATH,
  outDir = DEFAULT_BACKBONE_DIR,
  weightEncoding: WeightEncoding = 'float16',
): Promise<Provenance> {
  const bytes = await readFile(onnxPath);
  const { model, summary } = convertMobileNetV2(decodeOnnxModel(bytes));
  const provenance: Provenance = {
    network: 'MobileNetV2 alpha 1.0, 224x224, ImageNet-1k',
    source: {
      file: path.basename(onnxPath),
      sha256: createHash('sha256').update(bytes).digest('hex'),
      bytes: bytes.byteLength,
    },
    origin:
      'ONNX Model Zoo mobilenetv2-12-int8, copied from Lawrence-lugs/hwacc_design_garage @3d6147f8 : ' +
      'onnx_models/mobilenetv2-12-int8.onnx (see ../shared/models/README.md)',
    upstream: 'https://github.com/onnx/models (validated/vision/classification/mobilenet)',
    licence: 'Apache-2.0',
    conversion:
      `model/onnx/mobilenetv2-from-onnx.ts: int8 weights dequantized to float32 (per-channel), int32 biases ` +
      `scaled by x_scale*w_scale, ReLU6 restored where the output quantization folded it ` +
      `(${summary.relu6} layers), activations in float; NCHW -> NHWC`,
    input: MOBILENETV2_100_INPUT,
    outputs: {
      featureMap: `[N,7,7,1280] after the last ReLU6 (ONNX tensor ${MOBILENETV2_FEATURE_TENSOR})`,
      logits: '[N,1000] ImageNet-1k logits (pre-softmax)',
    },
    weightEncoding,
    parameters: model.countParams(),
    createdAt: new Date().toISOString(),
  };
  model.setUserDefinedMetadata({
    input: MOBILENETV2_100_INPUT,
    outputs: provenance.outputs,
    licence: 'Apache-2.0',
  });
  await saveLayersModel(model, outDir, { weightEncoding });
  await writeFile(path.join(outDir, 'provenance.json'), JSON.stringify(provenance, null, 2) + '\n');
  model.dispose();
  return provenance;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { out: { type: 'string' }, onnx: { type: 'string' }, float32: { type: 'boolean' } },
  });
  await useWasmBackend();
  const outDir = path.resolve(values.out ?? DEFAULT_BACKBONE_DIR);
  const provenance = await importBackbone(
    values.onnx ?? DEFAULT_ONNX_PATH,
    outDir,
    values.float32 ? 'float32' : 'float16',
  );
  const sizes = await Promise.all(['model.json', 'weights.bin'].map((f) => stat(path.join(outDir, f))));
  const total = sizes.reduce((a, s) => a + s.size, 0);
  console.log(
    `MobileNetV2-1.0 backbone written to ${outDir}: ${provenance.parameters} parameters, ` +
      `${provenance.weightEncoding} weights, ${(total / 1e6).toFixed(2)} MB (backend ${tf.getBackend()})`,
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(`backbone:import failed: ${(error as Error).message}`);
    process.exitCode = 1;
  });
}
