/**
 * ONNX graph (NCHW) -> TF.js layers model (NHWC): one walk over the nodes in file order, one handler per op
 * (float, quantized and structural ops; converter.ts holds the shared layer builders). Any other op, domain
 * or attribute variant throws, naming the node.
 */
import * as tf from '@tensorflow/tfjs';
import { Converter, type ConverterOptions, type ImportSummary, type OpTable } from './converter';
import { FLOAT_OPS } from './ops-float';
import { QLINEAR_OPS } from './ops-qlinear';
import { SHAPE_OPS } from './ops-shape';
import type { OnnxModel } from './onnx-proto';

export type { ImportSummary } from './converter';

export const ONNX_OPS: OpTable = { ...SHAPE_OPS, ...FLOAT_OPS, ...QLINEAR_OPS };

export interface ConvertOptions extends ConverterOptions {
  /** ONNX tensors to expose, in the TF model's output order. */
  outputs: string[];
  modelName: string;
}

export interface ImportResult {
  model: tf.LayersModel;
  summary: ImportSummary;
  onnx: OnnxModel;
}

export function convertOnnxGraph(onnx: OnnxModel, options: ConvertOptions): ImportResult {
  const { graph } = onnx;
  const unknown = [
    ...new Set(graph.nodes.filter((n) => ONNX_OPS[n.opType] === undefined).map((n) => n.opType)),
  ];
  if (unknown.length > 0) throw new Error(`ONNX model uses unsupported ops: ${unknown.join(', ')}`);
  const converter = new Converter(graph, options);
  try {
    for (const node of graph.nodes) {
      const op = ONNX_OPS[node.opType]!;
      const domain = node.domain === 'ai.onnx' ? '' : node.domain;
      if (domain !== op.domain) {
        throw new Error(
          `ONNX op ${node.opType} (node ${node.name}) from domain '${node.domain}' is not supported`,
        );
      }
      converter.summary.opCounts[node.opType] = (converter.summary.opCounts[node.opType] ?? 0) + 1;
      op.run(converter, node);
    }
    const outputs = options.outputs.map((name) => converter.output(name));
    const model = tf.model({ inputs: converter.input, outputs, name: options.modelName });
    converter.assignWeights();
    return { model, summary: converter.summary, onnx };
  } catch (error) {
    converter.disposeWeights();
    throw error;
  }
}
