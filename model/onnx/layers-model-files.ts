/**
 * Saves and loads TF.js layers models as a folder (`model.json` + `weights.bin`) in Node, where plain
 * @tensorflow/tfjs has no file:// handler. The layout is the one tfjs-converter writes, so the folder also
 * loads in a browser with `tf.loadLayersModel(url)`.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';

export type WeightEncoding = 'float32' | 'float16';

export interface SaveOptions {
  /** float16 halves the folder; decoded back to float32 on load. Default float32. */
  weightEncoding?: WeightEncoding;
}

const MODEL_JSON = 'model.json';
const WEIGHTS_BIN = 'weights.bin';

/** Round-to-nearest-even float32 -> IEEE half bits. */
export function float32ToFloat16Bits(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  for (let i = 0; i < values.length; i++) {
    f32[0] = values[i]!;
    const x = u32[0]!;
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    let mant = x & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 : 0);
      continue;
    }
    const e = exp - 127 + 15;
    if (e >= 0x1f) {
      out[i] = sign | 0x7c00;
      continue;
    }
    if (e <= 0) {
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      mant |= 0x800000;
      const shift = 14 - e;
      let half = mant >>> shift;
      const rem = mant & ((1 << shift) - 1);
      const mid = 1 << (shift - 1);
      if (rem > mid || (rem === mid && half & 1)) half++;
      out[i] = sign | half;
      continue;
    }
    let half = (e << 10) | (mant >>> 13);
    const rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
    // A carry out of the mantissa bumps the exponent, possibly to infinity (0x7c00), which is correct.
    out[i] = sign | half;
  }
  return out;
}

function encodeWeights(
  specs: tf.io.WeightsManifestEntry[],
  data: ArrayBuffer,
  encoding: WeightEncoding,
): [tf.io.WeightsManifestEntry[], ArrayBuffer] {
  if (encoding === 'float32') return [specs, data];
  const parts: Uint8Array[] = [];
  let offset = 0;
  const outSpecs = specs.map((spec) => {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    if (spec.quantization || spec.dtype !== 'float32') {
      throw new Error(`weight ${spec.name}: only plain float32 weights can be re-encoded`);
    }
    const values = new Float32Array(data.slice(offset, offset + count * 4));
    offset += count * 4;
    const bits = float32ToFloat16Bits(values);
    parts.push(new Uint8Array(bits.buffer));
    return { ...spec, quantization: { dtype: 'float16' as const } };
  });
  if (offset !== data.byteLength) throw new Error('weight specs do not cover the weight data');
  const total = parts.reduce((a, p) => a + p.byteLength, 0);
  const joined = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    joined.set(p, at);
    at += p.byteLength;
  }
  return [outSpecs, joined.buffer];
}

/** Writes `model.json` + `weights.bin` into `dir` (created if missing; existing files replaced atomically). */
export async function saveLayersModel(
  model: tf.LayersModel,
  dir: string,
  options: SaveOptions = {},
): Promise<void> {
  const encoding = options.weightEncoding ?? 'float32';
  await mkdir(dir, { recursive: true });
  const handler: tf.io.IOHandler = {
    save: async (artifacts) => {
      if (!(artifacts.modelTopology && artifacts.weightSpecs && artifacts.weightData)) {
        throw new Error('the model produced no topology or weights to save');
      }
      const data = tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      const [weightSpecs, weightData] = encodeWeights(artifacts.weightSpecs, data, encoding);
      const modelJson: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: weightSpecs }],
      };
      if (artifacts.userDefinedMetadata) modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
      if (artifacts.trainingConfig) modelJson.trainingConfig = artifacts.trainingConfig;
      const tmpWeights = path.join(dir, `${WEIGHTS_BIN}.tmp`);
      const tmpJson = path.join(dir, `${MODEL_JSON}.tmp`);
      await writeFile(tmpWeights, new Uint8Array(weightData));
      await writeFile(tmpJson, JSON.stringify(modelJson));
      await rename(tmpWeights, path.join(dir, WEIGHTS_BIN));
      await rename(tmpJson, path.join(dir, MODEL_JSON));
      return {
        modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON({ ...artifacts, weightSpecs, weightData }),
      };
    },
  };
  await model.save(handler);
}

/** The one loader for model folders lives in model-io.ts (clear ModelLoadError for broken folders). */
export { loadLayersModelFromDir } from '../model-io.ts';
