/**
 * The network fine-tuned in PyTorch (model/trainer/train.py, exported with `torch.onnx.export`, opset 13,
 * eval mode) as the app's TF.js layers model: outputs `[feature_map, class_logits, gate_logit]`, the two heads
 * as Dense layers named `class_logits` and `gate_logit` (the class activation map reads the first one's
 * kernel), convs and their ReLU6 as separate layers so that model/fused-forward.ts fuses them.
 */
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { OUTPUT_NAMES } from '../train/combined-model.ts';
import { saveLayersModel, type WeightEncoding } from './layers-model-files';
import { convertOnnxGraph, type ImportResult } from './onnx-to-layers';
import { readOnnxModel, type OnnxModel } from './onnx-proto';

/** Output tensor names of the ONNX export, which are also the TF output layers' names. */
export const TRAINED_NETWORK_OUTPUTS = {
  featureMap: 'feature_map',
  classLogits: OUTPUT_NAMES.classLogits,
  gateLogit: OUTPUT_NAMES.gateLogit,
} as const;

export interface TrainedNetworkOptions {
  /** Declared input side, when not the ONNX input's. */
  inputSize?: number;
}

export function convertTrainedNetwork(onnx: OnnxModel, options: TrainedNetworkOptions = {}): ImportResult {
  const names = [
    TRAINED_NETWORK_OUTPUTS.featureMap,
    TRAINED_NETWORK_OUTPUTS.classLogits,
    TRAINED_NETWORK_OUTPUTS.gateLogit,
  ];
  const missing = names.filter((n) => !onnx.graph.outputs.some((o) => o.name === n));
  if (missing.length > 0) {
    throw new Error(
      `the ONNX export has outputs ${onnx.graph.outputs.map((o) => o.name).join(', ')}; ` +
        `missing ${missing.join(', ')}`,
    );
  }
  const result = convertOnnxGraph(onnx, {
    outputs: names,
    layerNames: Object.fromEntries(names.map((n) => [n, n])),
    ...(options.inputSize ? { inputSize: [options.inputSize, options.inputSize] } : {}),
    modelName: 'eardrum',
  });
  try {
    checkHeads(result.model);
  } catch (error) {
    result.model.dispose();
    throw error;
  }
  return result;
}

/** The classifier's contract: a 4-D map, then two Dense heads that read its global average. */
function checkHeads(model: tf.LayersModel): void {
  const [map, cls, gate] = model.outputs.map((o) => o.shape);
  const channels = map?.[3];
  const layerOf = (name: string) => model.outputLayers.find((l) => l.name === name);
  const classLayer = layerOf(TRAINED_NETWORK_OUTPUTS.classLogits);
  const gateLayer = layerOf(TRAINED_NETWORK_OUTPUTS.gateLogit);
  const kernelRows = (l: tf.layers.Layer | undefined) =>
    l?.getClassName() === 'Dense' ? l.getWeights()[0]?.shape[0] : undefined;
  if (
    map?.length !== 4 ||
    cls?.length !== 2 ||
    gate?.length !== 2 ||
    gate[1] !== 1 ||
    kernelRows(classLayer) !== channels ||
    kernelRows(gateLayer) !== channels
  ) {
    throw new Error(
      `the converted network is not [feature map, class Dense, gate Dense] over the pooled map: outputs ` +
        `${model.outputLayers.map((l, i) => `${l.name}:${l.getClassName()}[${model.outputs[i]!.shape.join(',')}]`).join(', ')}`,
    );
  }
}

/**
 * Reads the ONNX export and converts it; with `outDir`, also writes `model.json` + `weights.bin` there
 * (float32 by default: float16 weights move the logits by about 1e-2, past the parity tolerance).
 */
export async function importTrainedNetwork(
  onnxPath: string,
  outDir?: string,
  options: TrainedNetworkOptions & { weightEncoding?: WeightEncoding } = {},
): Promise<tf.LayersModel> {
  const { model } = convertTrainedNetwork(await readOnnxModel(onnxPath), options);
  if (outDir) {
    model.setUserDefinedMetadata({
      source: path.basename(onnxPath),
      converter: 'model/onnx/trained-network.ts',
    });
    await saveLayersModel(model, outDir, { weightEncoding: options.weightEncoding ?? 'float32' });
  }
  return model;
}
