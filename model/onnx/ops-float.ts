/**
 * Float ONNX ops, as `torch.onnx.export` (opset 11-13, eval mode, batch norm folded into the convs) writes a
 * MobileNet-style network: Conv (bias, group), Clip / Relu, Add, GlobalAveragePool / ReduceMean, Gemm /
 * MatMul + Add.
 */
import * as tf from '@tensorflow/tfjs';
import { axesOf, intAttr, type Activation, type Converter, type OpTable } from './converter';
import type { OnnxNode } from './onnx-proto';

function conv(c: Converter, node: OnnxNode): void {
  const [xName, wName, bName] = node.inputs;
  const x = c.activation(xName, node);
  const w = c.constant(wName, node);
  const m = w.dims[0]!;
  const bias = bName ? c.floats(bName, node) : new Float32Array(m);
  c.set(node.outputs[0], c.conv(node, x, c.floats(wName, node), w.dims, bias));
}

/** Clip(0, 6) is ReLU6, Clip(0, +inf) a ReLU; other bounds are refused rather than approximated. */
function clip(c: Converter, node: OnnxNode): void {
  const x = c.activation(node.inputs[0], node);
  // opset >= 11: optional inputs; before: attributes.
  const bound = (index: number, key: string, fallback: number) => {
    const name = node.inputs[index];
    if (name) return c.scalar(name, node);
    const attr = node.attributes.get(key);
    return attr === undefined ? fallback : Number(attr);
  };
  const min = bound(1, 'min', -Infinity);
  const max = bound(2, 'max', Infinity);
  if (min !== 0 || !(max > 0)) {
    throw new Error(
      `Clip ${node.name}: only Clip(0, max) (a bounded ReLU) is supported, got Clip(${min}, ${max})`,
    );
  }
  c.set(node.outputs[0], c.relu(x, c.layerName(node), Number.isFinite(max) ? max : undefined));
}

function relu(c: Converter, node: OnnxNode): void {
  c.set(node.outputs[0], c.relu(c.activation(node.inputs[0], node), c.layerName(node)));
}

/** `[out]` or `[1, out]` constant, or a scalar repeated `out` times. */
function biasVector(c: Converter, name: string, out: number, node: OnnxNode): Float32Array {
  const t = c.constant(name, node);
  const values = c.floats(name, node);
  if (values.length === out && t.dims.filter((d) => d !== 1).length <= 1) return values;
  if (values.length === 1) return new Float32Array(out).fill(values[0]!);
  throw new Error(`${node.opType} ${node.name}: bias of shape [${t.dims.join(',')}] for ${out} outputs`);
}

function add(c: Converter, node: OnnxNode): void {
  const [aName, bName] = node.inputs;
  const constName = [aName, bName].find((n) => c.isConstant(n));
  if (constName === undefined) {
    c.set(node.outputs[0], c.add(c.activation(aName, node), c.activation(bName, node), node));
    return;
  }
  const other = c.value((constName === aName ? bName : aName)!);
  if (other?.kind !== 'matmul') {
    throw new Error(`Add ${node.name}: adding a constant is only supported as the bias of a MatMul`);
  }
  const bias = biasVector(c, constName!, other.outFeatures, node);
  c.set(node.outputs[0], c.dense(other.input, other.kernel, other.outFeatures, bias, node));
}

function globalPool(node: OnnxNode, c: Converter, x: Activation, keepDims: boolean): Activation {
  if (x.tensor.shape.length !== 4) throw new Error(`${node.opType} ${node.name}: input must be a 4-D map`);
  const layer = tf.layers.globalAveragePooling2d({ name: c.layerName(node) });
  const channels = x.onnxShape[1]!;
  // Held as [N, C] either way; onnxShape records ONNX's [N, C, 1, 1] for keepdims.
  return {
    kind: 'activation',
    tensor: layer.apply(x.tensor) as tf.SymbolicTensor,
    onnxShape: keepDims ? [null, channels, 1, 1] : [null, channels],
  };
}

function globalAveragePool(c: Converter, node: OnnxNode): void {
  c.set(node.outputs[0], globalPool(node, c, c.activation(node.inputs[0], node), true));
}

/** ReduceMean over the two spatial axes is a global average pool; other reductions are not supported. */
function reduceMean(c: Converter, node: OnnxNode): void {
  const x = c.activation(node.inputs[0], node);
  const axes = (axesOf(c, node, 1) ?? []).map((a) => (a < 0 ? a + x.onnxShape.length : a)).sort();
  if (x.onnxShape.length !== 4 || axes.join() !== '2,3') {
    throw new Error(`ReduceMean ${node.name}: only the mean over H and W of an NCHW map is supported`);
  }
  c.set(node.outputs[0], globalPool(node, c, x, intAttr(node, 'keepdims', 1) !== 0));
}

/** Gemm `alpha * A · B' + beta * C` (B' = B transposed when transB): one Dense layer. */
function gemm(c: Converter, node: OnnxNode): void {
  const [aName, bName, cName] = node.inputs;
  if (intAttr(node, 'transA', 0) !== 0) throw new Error(`Gemm ${node.name}: transA is not supported`);
  const x = c.activation(aName, node);
  const b = c.constant(bName, node);
  const w = c.floats(bName, node);
  const transB = intAttr(node, 'transB', 0) !== 0;
  const alpha = Number(node.attributes.get('alpha') ?? 1);
  const beta = Number(node.attributes.get('beta') ?? 1);
  if (b.dims.length !== 2) throw new Error(`Gemm ${node.name}: B must be 2-D`);
  const [inFeatures, units] = (transB ? [b.dims[1], b.dims[0]] : b.dims) as [number, number];
  const kernel = new Float32Array(inFeatures * units);
  for (let i = 0; i < inFeatures; i++)
    for (let o = 0; o < units; o++)
      kernel[i * units + o] = alpha * w[transB ? o * inFeatures + i : i * units + o]!;
  const bias = cName ? biasVector(c, cName, units, node).map((v) => beta * v) : undefined;
  c.set(node.outputs[0], c.dense(x, kernel, units, bias, node));
}

/** MatMul by a constant `[in, out]`: kept pending so that a following Add of a constant becomes its bias. */
function matMul(c: Converter, node: OnnxNode): void {
  const [aName, bName] = node.inputs;
  const input = c.activation(aName, node);
  const b = c.constant(bName, node);
  if (input.onnxShape.length !== 2 || b.dims.length !== 2 || b.dims[0] !== input.onnxShape[1]) {
    throw new Error(
      `MatMul ${node.name}: [${input.onnxShape.join(',')}] x [${b.dims.join(',')}] is not supported`,
    );
  }
  const [inFeatures, outFeatures] = b.dims as [number, number];
  c.set(node.outputs[0], {
    kind: 'matmul',
    input,
    kernel: c.floats(bName, node),
    inFeatures,
    outFeatures,
    node,
  });
}

export const FLOAT_OPS: OpTable = {
  Conv: { domain: '', run: conv },
  Clip: { domain: '', run: clip },
  Relu: { domain: '', run: relu },
  Add: { domain: '', run: add },
  GlobalAveragePool: { domain: '', run: globalAveragePool },
  ReduceMean: { domain: '', run: reduceMean },
  Gemm: { domain: '', run: gemm },
  MatMul: { domain: '', run: matMul },
};
