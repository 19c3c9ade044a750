/**
 * Holds a TF.js model equal to the PyTorch network it was converted from: model/trainer/train.py writes
 * `parity.json` (PyTorch's logits and pooled features for a few validation photos) beside its ONNX export;
 * here the same photos go through the app's preprocessing and the app's forward pass (the fused one when the
 * model compiles to it, as in the classifier) and the largest differences are returned.
 */
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { compileFusedForward } from '../fused-forward.ts';
import { decodeImage, WORK_SIZE } from '../image-decode.ts';
import { readModelCard } from '../model-card.ts';
import { loadLayersModelFromDir } from '../model-io.ts';
import { sharedDir } from '../paths.ts';
import type { PreprocessConfig } from '../preprocess.ts';
import { preprocessedBytes } from '../train/render-views.ts';

const parityRecordSchema = z
  .object({
    /** Photos, relative to the datasets folder or to one dataset in it (see {@link resolvePhoto}). */
    files: z.array(z.string()).min(1),
    class_logits: z.array(z.array(z.number()).min(1)),
    gate_logit: z.array(z.number()),
    /** The first channels of the pooled (global average) feature map. */
    pooled_first8: z.array(z.array(z.number()).min(1)),
  })
  .refine(
    (r) => [r.class_logits, r.gate_logit, r.pooled_first8].every((a) => a.length === r.files.length),
    'class_logits, gate_logit and pooled_first8 need one entry per file',
  );

export type ParityRecord = z.infer<typeof parityRecordSchema>;

/** The views train.py is fed (model/train/render-views.ts), unless a model card says otherwise. */
export const TRAINING_VIEW_CONFIG: PreprocessConfig = {
  size: 192,
  framing: 'fov-circle',
  whiteBalance: 'grayworld',
  mean: [123.675, 116.28, 103.53],
  std: [58.395, 57.12, 57.375],
};

export interface ParityOptions {
  /** Default: the model folder's card, else {@link TRAINING_VIEW_CONFIG}. */
  preprocessing?: PreprocessConfig;
  /** Decode size before preprocessing; default the card's workSize, else 320. */
  workSize?: number;
}

export interface ParityReport {
  views: number;
  /** Largest absolute differences from PyTorch's outputs. */
  classLogits: number;
  gateLogit: number;
  pooled: number;
  /** Which forward pass was compared: the fused one the classifier runs, or model.predict. */
  path: 'fused' | 'predict';
  /** Largest difference between the fused pass and model.predict over all outputs (null: not fusable). */
  fusedVsPredict: number | null;
}

export async function readParityRecord(file: string): Promise<ParityRecord> {
  const parsed = parityRecordSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file}: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/**
 * The views as PyTorch saw them: `preprocessedBytes` (uint8), then `(x - mean) / std` in float32, NHWC.
 * The bytes are what train.py reads, not the classifier's unrounded floats: parity holds the conversion,
 * not the rounding of the views.
 */
export async function parityViews(
  files: string[],
  cfg: PreprocessConfig,
  workSize: number,
): Promise<tf.Tensor4D> {
  const f = Math.fround;
  const pixels = cfg.size * cfg.size * 3;
  const x = new Float32Array(files.length * pixels);
  for (let i = 0; i < files.length; i++) {
    const bytes = preprocessedBytes(await decodeImage(files[i]!, workSize), cfg);
    for (let j = 0; j < pixels; j++) {
      const c = j % 3;
      x[i * pixels + j] = f(f(bytes[j]! - f(cfg.mean[c]!)) / f(cfg.std[c]!));
    }
  }
  return tf.tensor4d(x, [files.length, cfg.size, cfg.size, 3]);
}

/**
 * train.py names a photo by its last two path parts (`aom/x.jpg`, `fundus/y.jpg`), which leaves out the
 * dataset (otoscopy, not-eardrum): a path relative to `datasetsDir` is taken as is, else the one dataset
 * folder that has the file.
 */
export function resolvePhoto(datasetsDir: string, file: string): string {
  const direct = path.join(datasetsDir, file);
  if (existsSync(direct)) return direct;
  const found = readdirSync(datasetsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => path.join(datasetsDir, d.name, file))
    .filter((f) => existsSync(f));
  if (found.length !== 1) {
    throw new Error(`${file}: ${found.length ? 'in several datasets' : 'not found'} under ${datasetsDir}`);
  }
  return found[0]!;
}

const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor | number[][] | number[]) =>
  tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);

/**
 * Runs the photos of `parity` (a parity.json path or its content) through `model` (a model folder or a
 * loaded model whose outputs are `[...feature maps, class logits, gate logit]`) and returns the largest
 * differences from the recorded PyTorch outputs. `datasetsDir` holds the datasets (otoscopy/, not-eardrum/).
 */
export async function checkParity(
  model: string | tf.LayersModel,
  parity: string | ParityRecord,
  datasetsDir = path.join(sharedDir(), 'datasets'),
  options: ParityOptions = {},
): Promise<ParityReport> {
  const record =
    typeof parity === 'string' ? await readParityRecord(parity) : parityRecordSchema.parse(parity);
  let cfg = options.preprocessing ?? TRAINING_VIEW_CONFIG;
  let workSize = options.workSize ?? WORK_SIZE;
  if (typeof model === 'string' && existsSync(path.join(model, 'model-card.json'))) {
    const p = (await readModelCard(model)).preprocessing;
    cfg = options.preprocessing ?? {
      size: p.size,
      framing: p.framing,
      whiteBalance: p.whiteBalance,
      mean: p.mean,
      std: p.std,
    };
    workSize = options.workSize ?? p.workSize;
  }
  const files = record.files.map((f) => resolvePhoto(datasetsDir, f));
  const net = typeof model === 'string' ? await loadLayersModelFromDir(model) : model;
  const x = await parityViews(files, cfg, workSize);
  try {
    const predicted = net.predict(x) as tf.Tensor[];
    const fused = compileFusedForward(net);
    const outputs = fused ? fused(x) : predicted;
    const n = outputs.length;
    if (n < 3)
      throw new Error(`expected [...feature maps, class logits, gate logit], the model has ${n} outputs`);
    const channels = record.pooled_first8[0]!.length;
    const pooled = tf.tidy(() => {
      const maps = outputs.slice(0, n - 2).map((m) => tf.mean(m, [1, 2]));
      return tf.concat(maps, 1).slice([0, 0], [-1, channels]);
    });
    const report: ParityReport = {
      views: files.length,
      classLogits: maxAbsDiff(outputs[n - 2]!, record.class_logits),
      gateLogit: maxAbsDiff(
        outputs[n - 1]!,
        record.gate_logit.map((v) => [v]),
      ),
      pooled: maxAbsDiff(pooled, record.pooled_first8),
      path: fused ? 'fused' : 'predict',
      fusedVsPredict: fused ? Math.max(...outputs.map((o, i) => maxAbsDiff(o, predicted[i]!))) : null,
    };
    tf.dispose([pooled, ...predicted, ...(fused ? outputs : [])]);
    return report;
  } finally {
    x.dispose();
    if (net !== model) net.dispose();
  }
}
