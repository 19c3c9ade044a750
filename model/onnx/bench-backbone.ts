/**
 * Per-image latency of the converted MobileNetV2-1.0 feature-map forward pass on the wasm backend
 * (batch 1 and 8, after warm-up, median of N runs). Usage: `tsx model/onnx/bench-backbone.ts [--runs 50] [--dir D]`
 * where D is a folder written by `npm run backbone:import` (default .cache/backbones/mobilenetv2-100).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { loadLayersModelFromDir } from './layers-model-files';
import { featureMapModel } from './mobilenetv2-from-onnx';
import { useWasmBackend } from './wasm-backend';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export async function benchFeatureMap(model: tf.LayersModel, batch: number, runs: number): Promise<number> {
  const features = featureMapModel(model);
  const x = tf.randomNormal([batch, 224, 224, 3]);
  for (let i = 0; i < 5; i++) tf.dispose(await (features.predict(x) as tf.Tensor).data());
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const y = features.predict(x) as tf.Tensor;
    await y.data();
    times.push((performance.now() - t0) / batch);
    y.dispose();
  }
  x.dispose();
  return median(times);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string' }, dir: { type: 'string' } } });
  const runs = Number(values.runs ?? 50);
  await useWasmBackend();
  const model = await loadLayersModelFromDir(
    path.resolve(values.dir ?? path.join(repoRoot, '.cache/backbones/mobilenetv2-100')),
  );
  for (const batch of [1, 8]) {
    const ms = await benchFeatureMap(model, batch, batch === 1 ? runs : Math.max(5, Math.round(runs / 5)));
    console.log(
      `feature map, wasm (${tf.getBackend()}), batch ${batch}: ${ms.toFixed(1)} ms per image (median)`,
    );
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error((error as Error).message);
    process.exitCode = 1;
  });
}
