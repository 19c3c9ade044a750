/**
 * Network time of a converted PyTorch export next to the shipped model's, in the same process and
 * interleaved (the machine's load hits both alike): batch 1, wasm, the fused pass the classifier runs, and
 * model.predict for reference. Median of N runs after warm-up.
 *
 * Usage: `npx tsx model/onnx/bench-network.ts --onnx .cache/network.onnx [--runs 40]`
 * (or `--dir <model folder>` for an already converted one).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { defaultModelDir } from '../classifier.ts';
import { compileFusedForward, type Forward } from '../fused-forward.ts';
import { loadLayersModelFromDir } from '../model-io.ts';
import { importTrainedNetwork } from './trained-network';
import { useWasmBackend } from './wasm-backend';

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

interface Candidate {
  name: string;
  size: number;
  passes: [string, Forward][];
}

function candidate(name: string, model: tf.LayersModel): Candidate {
  const size = model.inputs[0]!.shape[1] as number;
  const fused = compileFusedForward(model);
  const passes: [string, Forward][] = [['predict', (x) => model.predict(x) as tf.Tensor[]]];
  if (fused) passes.unshift(['fused', fused]);
  return { name, size, passes };
}

async function time(forward: Forward, x: tf.Tensor4D): Promise<number> {
  const t0 = performance.now();
  const out = forward(x);
  await Promise.all(out.map((t) => t.data()));
  const ms = performance.now() - t0;
  tf.dispose(out);
  return ms;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { onnx: { type: 'string' }, dir: { type: 'string' }, runs: { type: 'string' } },
  });
  if (!values.onnx && !values.dir) throw new Error('give --onnx <network.onnx> or --dir <model folder>');
  const runs = Number(values.runs ?? 40);
  await useWasmBackend();
  const imported = values.dir
    ? await loadLayersModelFromDir(values.dir)
    : await importTrainedNetwork(values.onnx!);
  const shippedDir = defaultModelDir();
  const candidates = [
    candidate(`shipped ${path.basename(shippedDir)}`, await loadLayersModelFromDir(shippedDir)),
    candidate(`imported ${path.basename(values.dir ?? values.onnx!)}`, imported),
  ];
  const inputs = candidates.map(
    (c) => tf.randomNormal([1, c.size, c.size, 3], 0, 1, 'float32', 1) as tf.Tensor4D,
  );
  const times = candidates.map((c) => c.passes.map(() => [] as number[]));
  for (let r = -5; r < runs; r++) {
    for (let i = 0; i < candidates.length; i++) {
      for (let p = 0; p < candidates[i]!.passes.length; p++) {
        const ms = await time(candidates[i]!.passes[p]![1], inputs[i]!);
        if (r >= 0) times[i]![p]!.push(ms);
      }
    }
  }
  console.log(
    `wasm (${tf.getBackend()}), batch 1, median of ${runs} interleaved runs; the machine may be loaded`,
  );
  candidates.forEach((c, i) => {
    const cells = c.passes.map(([pass], p) => `${pass} ${median(times[i]![p]!).toFixed(1)} ms`);
    console.log(`${c.name} (${c.size} px): ${cells.join(', ')}`);
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error((error as Error).message);
    process.exitCode = 1;
  });
}
