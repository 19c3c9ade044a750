import * as tf from '@tensorflow/tfjs';
import { compileFusedForward, type Forward } from '../fused-forward.ts';
import { decodeImage } from '../image-decode.ts';
import { loadLayersModelFromDir } from '../model-io.ts';
import { readModelCard, type ModelCard } from '../model-card.ts';
import { cropBox, type PreprocessConfig } from '../preprocess.ts';
import { networkInputFast } from '../preprocess-fast.ts';

/** What the heads see of one photo: the pooled features, and the base model's logits for it. */
export interface Embedding {
  /** Global average of each feature map in the card's order, concatenated (the heads' input). */
  features: Float32Array;
  classLogits: Float32Array;
  gateLogit: number;
}

/**
 * Runs a model folder's network on single photos and returns the heads' input. Same decode and
 * preprocessing as the classifier (the card's settings), so the features match what it sees.
 */
export class Embedder {
  private constructor(
    readonly card: ModelCard,
    private readonly model: tf.LayersModel,
    private readonly forward: Forward,
  ) {}

  static async load(modelDir: string): Promise<Embedder> {
    const card = await readModelCard(modelDir);
    const model = await loadLayersModelFromDir(modelDir);
    const forward = compileFusedForward(model) ?? ((x) => [model.predict(x)].flat());
    return new Embedder(card, model, forward);
  }

  get preprocessing(): PreprocessConfig {
    const p = this.card.preprocessing;
    return { size: p.size, framing: p.framing, whiteBalance: p.whiteBalance, mean: p.mean, std: p.std };
  }

  /** Throws ImageInputError for a photo that cannot be read. */
  async embed(input: Buffer | string): Promise<Embedding> {
    const img = await decodeImage(input, this.card.preprocessing.workSize);
    const cfg = this.preprocessing;
    const { input: pixels } = networkInputFast(img, cfg, cropBox(img, cfg.framing));
    const maps = this.card.outputs.featureMaps.length;
    const [pooled, cls, gate] = tf.tidy(() => {
      const out = this.forward(tf.tensor4d(pixels, [1, cfg.size, cfg.size, 3]));
      const f = tf.concat(
        out.slice(0, maps).map((m) => m.mean([1, 2])),
        1,
      );
      return [f, out[maps]!, out[maps + 1]!];
    });
    const [features, classLogits, gateLogit] = await Promise.all([pooled.data(), cls.data(), gate.data()]);
    tf.dispose([pooled, cls, gate]);
    return {
      features: features as Float32Array,
      classLogits: classLogits as Float32Array,
      gateLogit: gateLogit[0]!,
    };
  }

  dispose(): void {
    this.model.dispose();
  }
}
