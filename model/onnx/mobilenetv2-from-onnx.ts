/**
 * The ONNX Model Zoo `mobilenetv2-12-int8` (QLinear ops, NCHW) as a float32 TF.js layers model (NHWC): its
 * input contract and a thin entry over the general converter (onnx-to-layers.ts; the quantized ops and how
 * the folded ReLU6s come back are in ops-qlinear.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { readOnnxModel, type OnnxModel } from './onnx-proto';
import { convertOnnxGraph, type ImportResult } from './onnx-to-layers';

/**
 * Input contract of the converted model: RGB in [0, 255], resized to 224x224, then per channel
 * `(value / 255 - mean) / std`, laid out as float32 NHWC `[N, 224, 224, 3]`. `meanPixel` / `stdPixel` are the
 * same numbers on the 0..255 scale: `(value - meanPixel) / stdPixel`.
 */
export const MOBILENETV2_100_INPUT = {
  size: 224,
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
  meanPixel: [123.675, 116.28, 103.53],
  stdPixel: [58.395, 57.12, 57.375],
  layout: 'NHWC',
  channels: 'RGB',
  formula: '(rgb / 255 - mean) / std',
} as const;

/** Identity, scaling and provenance of the backbone, in the shape of model/backbones.ts `Backbone` (less `model`). */
export const MOBILENETV2_100_INFO = {
  id: 'mobilenetv2-1.0-224',
  mean: [123.675, 116.28, 103.53] as [number, number, number],
  std: [58.395, 57.12, 57.375] as [number, number, number],
  origin:
    'ONNX Model Zoo mobilenetv2-12-int8 (github:Lawrence-lugs/hwacc_design_garage@3d6147f8 onnx_models/mobilenetv2-12-int8.onnx), ' +
    'dequantized to float32 by model/onnx/mobilenetv2-from-onnx.ts',
  licence: 'Apache-2.0 (ONNX Model Zoo)',
};

/** ONNX tensor name of the last feature map (after its ReLU6), `[N,1280,7,7]` in ONNX, `[N,7,7,1280]` here. */
export const MOBILENETV2_FEATURE_TENSOR = '627';

export interface ImportOptions {
  /** ONNX tensor exposed as the first model output. */
  featureTensor?: string;
  modelName?: string;
}

export type { ImportResult, ImportSummary } from './onnx-to-layers';

/** Converts a decoded ONNX MobileNetV2 int8 model; outputs are `[featureMap NHWC, logits]`. */
export function convertMobileNetV2(onnx: OnnxModel, options: ImportOptions = {}): ImportResult {
  const { graph } = onnx;
  if (graph.outputs.length !== 1) throw new Error(`expected one graph output, found ${graph.outputs.length}`);
  return convertOnnxGraph(onnx, {
    outputs: [options.featureTensor ?? MOBILENETV2_FEATURE_TENSOR, graph.outputs[0]!.name],
    modelName: options.modelName ?? 'mobilenetv2_100_from_onnx',
  });
}

export async function importMobileNetV2FromOnnx(
  onnxPath: string,
  options: ImportOptions = {},
): Promise<tf.LayersModel> {
  return convertMobileNetV2(await readOnnxModel(onnxPath), options).model;
}

/** The first output alone: `[N, 7, 7, 1280]` feature map, sharing the layers (and weights) of `model`. */
export function featureMapModel(model: tf.LayersModel): tf.LayersModel {
  return tf.model({ inputs: model.inputs, outputs: model.outputs[0]!, name: `${model.name}_features` });
}

/**
 * RGB bytes (HWC, `size*size*3`, values 0..255) to normalized NHWC floats, per {@link MOBILENETV2_100_INPUT}.
 */
export function normalizeRgbForMobileNetV2(
  rgb: Uint8Array,
  size: number = MOBILENETV2_100_INPUT.size,
): Float32Array {
  if (rgb.length !== size * size * 3)
    throw new Error(`expected ${size}x${size} RGB bytes, got ${rgb.length} bytes`);
  const { mean, std } = MOBILENETV2_100_INPUT;
  const out = new Float32Array(rgb.length);
  for (let i = 0; i < rgb.length; i++) {
    const c = i % 3;
    out[i] = (rgb[i]! / 255 - mean[c]!) / std[c]!;
  }
  return out;
}
