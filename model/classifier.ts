import * as tf from '@tensorflow/tfjs';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { performance } from 'node:perf_hooks';
import { selectBackend } from './backend.ts';
import { ModelLoadError } from './errors.ts';
import { classActivationMap, renderHeatmapLayerPng } from './heatmap.ts';
import { compileFusedForward, type Forward } from './fused-forward.ts';
import { decodeImage } from './image-decode.ts';
import { loadLayersModelFromDir } from './model-io.ts';
import { readModelCard, type ModelCard } from './model-card.ts';
import { repoRoot } from './paths.ts';
import { cropBox, type PreprocessConfig } from './preprocess.ts';
import { networkInputFast } from './preprocess-fast.ts';
import { measureQuality, ungradableReason } from './quality.ts';
import type { Diagnosis, LabelInfo } from './types.ts';
import { softmax } from './eval/metrics.ts';
import { FamiliarityIndex } from './familiarity.ts';
import { decide } from './not-sure.ts';
import { readReferenceFeatures } from './reference-features.ts';
import type { DecodedImage } from './image-decode.ts';
import type { QualityStats } from './quality.ts';
import type { Box } from './field-of-view.ts';
import { readModelsPointer } from './models-pointer.ts';

/** What the network makes of one photo, before any decision: `eardrum adapt` and the trainer use it. */
export interface Embedding {
  /** Pooled features (global average of each feature map, concatenated): the heads' input. */
  features: Float32Array;
  classLogits: Float32Array;
  gateLogit: number;
  quality: QualityStats;
}

interface ForwardResult extends Embedding {
  img: DecodedImage;
  /** Where the network's crop lies in `img` (the heatmap layer maps it back onto the photo). */
  box: Box;
  featureMaps: tf.Tensor3D[];
  t0: number;
  t1: number;
  t2: number;
}

export interface LoadOptions {
  backend?: 'auto' | 'wasm' | 'cpu';
  /** Overrides the card's gate threshold (minimum eardrum probability), e.g. from the user's settings. */
  eardrumThreshold?: number;
}

/**
 * The eardrum classifier: one instance per process, holding the TF.js model and its card. It decides
 * whether a picture shows an eardrum, what it most likely shows, how sure it is and where it looked.
 */
export class EardrumClassifier {
  /** Per label, per feature map: the slice of the label's dense weights that acts on that map's channels. */
  private readonly kernelSlices: tf.Tensor1D[][];
  private eardrumThreshold: number;
  private readonly forward: Forward;

  private constructor(
    readonly card: ModelCard,
    readonly backend: string,
    private readonly model: tf.LayersModel,
    readonly modelDir: string,
    opts: LoadOptions,
    private readonly familiarity: FamiliarityIndex | null,
  ) {
    const layer = model.getLayer(card.outputs.classKernelLayer);
    const kernel = layer.getWeights()[0] as tf.Tensor2D;
    if (!kernel || kernel.shape[1] !== card.labels.length) {
      throw new ModelLoadError(
        `layer ${card.outputs.classKernelLayer} does not match the card's ${card.labels.length} labels`,
      );
    }
    const channels = card.outputs.featureMaps.map((_, i) => (model.outputs[i]!.shape.at(-1) as number) ?? 0);
    if (channels.reduce((a, b) => a + b, 0) !== kernel.shape[0]) {
      throw new ModelLoadError('feature maps do not add up to the class head input');
    }
    this.kernelSlices = tf.tidy(() =>
      card.labels.map((_, k) => {
        let offset = 0;
        return channels.map((c) => {
          const part = tf.keep(kernel.slice([offset, k], [c, 1]).squeeze([1]) as tf.Tensor1D);
          offset += c;
          return part;
        });
      }),
    );
    this.eardrumThreshold = opts.eardrumThreshold ?? card.thresholds.eardrum;
    this.forward = compileFusedForward(model) ?? ((x) => model.predict(x) as tf.Tensor[]);
  }

  static async load(modelDir: string, opts: LoadOptions = {}): Promise<EardrumClassifier> {
    if (!existsSync(modelDir)) throw new ModelLoadError(`model folder not found: ${modelDir}`);
    const card = await readModelCard(modelDir);
    const backend = await selectBackend(opts.backend);
    const model = await loadLayersModelFromDir(modelDir);
    const names = model.outputNames;
    const expected = [...card.outputs.featureMaps, card.outputs.classLogits, card.outputs.gateLogit];
    if (expected.some((n, i) => !names[i]?.startsWith(n))) {
      model.dispose();
      throw new ModelLoadError(
        `model outputs ${names.join(', ')} do not match the card (${expected.join(', ')})`,
      );
    }
    let familiarity: FamiliarityIndex | null = null;
    if (card.notSure) {
      const reference = await readReferenceFeatures(modelDir).catch((err: unknown) => {
        model.dispose();
        throw err;
      });
      if (!reference) {
        model.dispose();
        throw new ModelLoadError(
          `${modelDir}: the card has a not-sure rule but the folder has no reference features`,
        );
      }
      familiarity = new FamiliarityIndex(reference, card.notSure.k);
    }
    const classifier = new EardrumClassifier(card, backend, model, modelDir, opts, familiarity);
    await classifier.warmUp();
    return classifier;
  }

  get labels(): LabelInfo[] {
    return this.card.labels;
  }

  get preprocessing(): PreprocessConfig {
    const p = this.card.preprocessing;
    return { size: p.size, framing: p.framing, whiteBalance: p.whiteBalance, mean: p.mean, std: p.std };
  }

  setEardrumThreshold(value: number): void {
    if (!(value >= 0 && value <= 1)) throw new RangeError('eardrum threshold must be within [0, 1]');
    this.eardrumThreshold = value;
  }

  /** One full pass (decode, network, heatmap, PNG) so the first real picture is not the slow one. */
  private async warmUp(): Promise<void> {
    const picture = await sharp({
      create: {
        width: 256,
        height: 256,
        channels: 3,
        background: '#000',
        noise: { type: 'gaussian', mean: 140, sigma: 40 },
      },
    })
      .jpeg()
      .toBuffer();
    const previous = this.eardrumThreshold;
    this.eardrumThreshold = 0; // take the eardrum path, heatmap included
    try {
      await this.diagnose(picture);
    } finally {
      this.eardrumThreshold = previous;
    }
  }

  /** Decode, preprocess and run the network once. The caller disposes `featureMaps`. */
  private async forwardOnce(input: Buffer | string): Promise<ForwardResult> {
    const t0 = performance.now();
    const img = await decodeImage(input, this.card.preprocessing.workSize);
    const quality = measureQuality(
      img.data,
      img.width,
      img.height,
      Math.min(img.original.width, img.original.height),
    );
    const cfg = this.preprocessing;
    const box = cropBox(img, cfg.framing);
    const { input: pixels } = networkInputFast(img, cfg, box);
    const x = tf.tensor4d(pixels, [1, cfg.size, cfg.size, 3]);
    const t1 = performance.now();

    const maps = this.card.outputs.featureMaps.length;
    const { featureMaps, pooled, classLogits, gateLogit } = tf.tidy(() => {
      const out = this.forward(x);
      const featureMaps = out.slice(0, maps).map((m) => m.squeeze([0]) as tf.Tensor3D);
      return {
        featureMaps,
        pooled: tf.concat(
          featureMaps.map((m) => m.mean([0, 1])),
          0,
        ),
        classLogits: out[maps]!,
        gateLogit: out[maps + 1]!,
      };
    });
    x.dispose();
    const [features, logits, gate] = await Promise.all([pooled.data(), classLogits.data(), gateLogit.data()]);
    tf.dispose([pooled, classLogits, gateLogit]);
    const t2 = performance.now();
    return {
      img,
      box,
      featureMaps,
      features: features as Float32Array,
      classLogits: logits as Float32Array,
      gateLogit: gate[0]!,
      quality,
      t0,
      t1,
      t2,
    };
  }

  /** The network's view of one photo (pooled features and raw logits), for adaptation and training. */
  async embed(input: Buffer | string): Promise<Embedding> {
    const r = await this.forwardOnce(input);
    tf.dispose(r.featureMaps);
    return { features: r.features, classLogits: r.classLogits, gateLogit: r.gateLogit, quality: r.quality };
  }

  /** Diagnoses one picture (file path or bytes). Throws ImageInputError for unreadable input. */
  async diagnose(input: Buffer | string): Promise<Diagnosis> {
    const { img, box, featureMaps, features, classLogits, gateLogit, quality, t0, t1, t2 } =
      await this.forwardOnce(input);
    const cfg = this.preprocessing;
    const eardrumProbability = 1 / (1 + Math.exp(-gateLogit));
    const base = {
      eardrumProbability,
      image: { width: img.original.width, height: img.original.height, format: img.original.format },
      model: { id: this.card.id, version: this.card.version, backend: this.backend },
    };
    const reason = ungradableReason(quality, this.card.thresholds);
    const gate = reason
      ? 'ungradable'
      : eardrumProbability < this.eardrumThreshold
        ? 'not_eardrum'
        : 'eardrum';
    if (gate !== 'eardrum') {
      tf.dispose(featureMaps);
      const t3 = performance.now();
      return {
        ...base,
        gate,
        ...(reason ? { gateReason: reason } : {}),
        label: null,
        probabilities: {},
        decision: null,
        notSureReasons: [],
        unfamiliarity: null,
        heatmap: null,
        timings: timings(t0, t1, t2, t3),
      };
    }

    const probs = softmax(classLogits, this.card.calibration.temperature);
    let top = 0;
    probs.forEach((p, i) => (p > probs[top]! ? (top = i) : 0));
    const probabilities: Record<string, number> = {};
    this.card.labels.forEach((l, i) => (probabilities[l.id] = probs[i]!));
    const unfamiliarity = this.familiarity ? this.familiarity.unfamiliarity(features) : null;
    const verdict =
      this.card.notSure && unfamiliarity !== null
        ? decide(probs[top]!, unfamiliarity, this.card.notSure)
        : { decision: null, reasons: [] };

    const { grid, rows, cols } = classActivationMap(featureMaps, this.kernelSlices[top]!);
    tf.dispose(featureMaps);
    const overlayPng = await renderHeatmapLayerPng(grid, rows, cols, {
      width: img.width,
      height: img.height,
      box,
      framing: cfg.framing,
      size: cfg.size,
      original: img.original,
    });
    const t3 = performance.now();
    return {
      ...base,
      gate,
      label: this.card.labels[top]!.id,
      probabilities,
      decision: verdict.decision,
      notSureReasons: verdict.reasons,
      unfamiliarity: unfamiliarity === null ? null : Math.round(unfamiliarity * 10000) / 10000,
      heatmap: { rows, cols, values: Array.from(grid, (v) => Math.round(v * 1000) / 1000), overlayPng },
      timings: timings(t0, t1, t2, t3),
    };
  }

  dispose(): void {
    this.familiarity?.dispose();
    this.kernelSlices.flat().forEach((t) => t.dispose());
    this.model.dispose();
  }
}

function timings(t0: number, t1: number, t2: number, t3: number) {
  const r = (v: number) => Math.round(v * 10) / 10;
  return { decodeMs: r(t1 - t0), inferenceMs: r(t2 - t1), totalMs: r(t3 - t0) };
}

/** The shipped model: `resources/models/<id>/`, the one named in `resources/models/current.json`. */
export function defaultModelDir(resourcesDir = path.join(repoRoot, 'resources')): string {
  const models = path.join(resourcesDir, 'models');
  const pointer = readModelsPointer(models);
  if (pointer) return path.join(models, path.basename(pointer.id));
  const dirs = existsSync(models)
    ? readdirSync(models).filter((d) => existsSync(path.join(models, d, 'model-card.json')))
    : [];
  if (!dirs.length) throw new ModelLoadError(`no model found in ${models}`);
  return path.join(models, dirs.sort().at(-1)!);
}

/**
 * Where adaptation to a clinic's otoscope starts: the folder named by `adaptFrom` in current.json, else the
 * shipped model. Fine-tuned features adapt to a new camera less well than general ImageNet features
 * (model/README.md, leave-one-source-out), so the shipped pointer can name another base for adapting.
 */
export function adaptBaseDir(resourcesDir = path.join(repoRoot, 'resources')): string {
  const models = path.join(resourcesDir, 'models');
  const from = readModelsPointer(models)?.adaptFrom;
  if (from) {
    const dir = path.join(models, path.basename(from));
    if (existsSync(path.join(dir, 'model-card.json'))) return dir;
  }
  return defaultModelDir(resourcesDir);
}
