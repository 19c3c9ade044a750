/**
 * `npm run bench:model`: latency, throughput, memory and tensor count of the shipped model on this
 * machine. Prints figures; asserts nothing (targets are judged from these numbers).
 */
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { EardrumClassifier, defaultModelDir } from '../model/classifier.ts';
import { readDataset } from '../model/data/dataset.ts';
import { sharedDir } from '../model/paths.ts';

const q = (v: number[], p: number) => {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? 0;
};

async function run(): Promise<void> {
  const t0 = performance.now();
  // `npm run bench:model -- --model DIR` measures another model folder (a candidate before it ships).
  const i = process.argv.indexOf('--model');
  const classifier = await EardrumClassifier.load(
    i > 0 ? path.resolve(process.argv[i + 1]!) : defaultModelDir(),
  );
  console.log(
    `model ${classifier.card.id} on backend ${classifier.backend}, loaded + warmed up in ${(performance.now() - t0).toFixed(0)} ms`,
  );
  const tensorsBefore = tf.memory().numTensors;
  let peakRss = process.memoryUsage().rss;
  const rssStart = peakRss;

  const measure = async (name: string, inputs: (string | Buffer)[]) => {
    const decode: number[] = [];
    const infer: number[] = [];
    const total: number[] = [];
    const start = performance.now();
    for (const input of inputs) {
      const d = await classifier.diagnose(input);
      decode.push(d.timings.decodeMs);
      infer.push(d.timings.inferenceMs);
      total.push(d.timings.totalMs);
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }
    const seconds = (performance.now() - start) / 1000;
    console.log(
      `${name}: ${inputs.length} images, ${(inputs.length / seconds).toFixed(1)} images/s; per image p50/p95 ` +
        `decode+preprocess ${q(decode, 0.5).toFixed(1)}/${q(decode, 0.95).toFixed(1)} ms, ` +
        `inference ${q(infer, 0.5).toFixed(1)}/${q(infer, 0.95).toFixed(1)} ms, ` +
        `total incl. heatmap ${q(total, 0.5).toFixed(1)}/${q(total, 0.95).toFixed(1)} ms`,
    );
  };

  const datasets = path.join(sharedDir(), 'datasets');
  const test = [
    ...readDataset(path.join(datasets, 'otoscopy'), 'test'),
    ...readDataset(path.join(datasets, 'not-eardrum'), 'test'),
  ];
  await measure(
    'test split files (≤512 px JPEG)',
    test.map((s) => s.file),
  );

  // Otoscope-sized captures: dataset photos re-encoded as 1-3 MP JPEGs (kept in memory: decode is measured).
  const sizes: [number, number][] = [
    [1280, 960],
    [1600, 1200],
    [1920, 1080],
    [2048, 1536],
  ];
  const big: Buffer[] = [];
  for (let i = 0; i < 60; i++) {
    const [w, h] = sizes[i % sizes.length]!;
    big.push(
      await sharp(test[i % test.length]!.file)
        .resize(w, h, { fit: 'fill' })
        .jpeg({ quality: 92 })
        .toBuffer(),
    );
  }
  await measure('1-3 MP JPEGs', big);
  await measure('1-3 MP JPEGs, second pass', big);

  const tensorsAfter = tf.memory().numTensors;
  console.log(
    `tensors: ${tensorsBefore} before, ${tensorsAfter} after (${tensorsAfter - tensorsBefore >= 0 ? '+' : ''}${tensorsAfter - tensorsBefore})`,
  );
  console.log(
    `RSS: ${(rssStart / 2 ** 20).toFixed(0)} MB after load, peak ${(peakRss / 2 ** 20).toFixed(0)} MB, end ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB`,
  );
  classifier.dispose();
}

await run();
