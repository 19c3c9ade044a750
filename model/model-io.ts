import * as tf from '@tensorflow/tfjs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ModelLoadError } from './errors.ts';

/** Loads a TF.js layers model folder (`model.json` + its weight files) without a network or tfjs-node. */
export async function loadLayersModelFromDir(dir: string): Promise<tf.LayersModel> {
  let json: {
    modelTopology: object;
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  try {
    json = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8'));
  } catch (err) {
    throw new ModelLoadError(`cannot read ${path.join(dir, 'model.json')}: ${(err as Error).message}`);
  }
  if (!json?.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new ModelLoadError(`${path.join(dir, 'model.json')} is not a TF.js layers model`);
  }
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Buffer[] = [];
  for (const group of json.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const p of group.paths) {
      const file = path.join(dir, p);
      if (path.relative(dir, file).startsWith('..'))
        throw new ModelLoadError(`weight path escapes the model folder: ${p}`);
      try {
        buffers.push(await readFile(file));
      } catch (err) {
        throw new ModelLoadError(`cannot read weights ${file}: ${(err as Error).message}`);
      }
    }
  }
  const all = Buffer.concat(buffers);
  try {
    return await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs,
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
      }),
    );
  } catch (err) {
    throw new ModelLoadError(`model in ${dir} is corrupt: ${(err as Error).message}`);
  }
}
