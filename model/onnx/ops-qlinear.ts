/**
 * Quantized (QLinear) ONNX ops, as in the ONNX Model Zoo `mobilenetv2-12-int8`: weights and biases are
 * dequantized and activations run in float, so every activation QuantizeLinear / DequantizeLinear vanishes.
 *
 * The quantizer folded each ReLU6 (Clip 0..6) of the float network into the output quantization of the op
 * before it: such an output has the zero point that makes real 0 the lowest representable value, and an upper
 * bound of at most 6. Those ops get a ReLU6 layer; the others (projection convs, residual adds) stay linear.
 */
import * as tf from '@tensorflow/tfjs';
import { intAttr, type Activation, type Converter, type OpTable } from './converter';
import { OnnxDataType, type OnnxNode } from './onnx-proto';

function quantRange(dataType: number): [number, number] {
  if (dataType === OnnxDataType.UINT8) return [0, 255];
  if (dataType === OnnxDataType.INT8) return [-128, 127];
  throw new Error(`unsupported quantized data type ${dataType}`);
}

/**
 * Activation implied by an output quantization. When real 0 is the lowest representable value, a ReLU-type
 * clip was folded into the quantization; with an upper bound of at most 6 it is the network's ReLU6.
 */
function foldedActivation(
  c: Converter,
  scaleName: string,
  zpName: string,
  node: OnnxNode,
): 'relu6' | 'linear' {
  const scale = c.scalar(scaleName, node);
  const zp = c.scalar(zpName, node);
  const [qmin, qmax] = quantRange(c.constant(zpName, node).dataType);
  if (zp !== qmin) return 'linear';
  const upper = (qmax - zp) * scale;
  if (upper > 6 * (1 + 1e-4)) {
    throw new Error(
      `${node.opType} ${node.name}: output range [0, ${upper.toFixed(4)}] implies a ReLU that is not a ReLU6; ` +
        'this converter only knows MobileNetV2-style ReLU6',
    );
  }
  return 'relu6';
}

function withFoldedRelu6(c: Converter, x: Activation, scale: string, zp: string, node: OnnxNode): Activation {
  return foldedActivation(c, scale, zp, node) === 'relu6' ? c.relu(x, c.layerName(node, '_relu6'), 6) : x;
}

/** `(q - zp) * scale`, per channel when there is one scale per channel. */
function dequantize(
  c: Converter,
  names: [string, string, string],
  channels: number,
  node: OnnxNode,
  channelOf: (i: number) => number,
): Float32Array {
  const [wName, scaleName, zpName] = names;
  const scales = c.numbers(scaleName, node);
  const zps = c.numbers(zpName, node);
  if ((scales.length !== 1 && scales.length !== channels) || zps.length !== scales.length) {
    throw new Error(
      `${node.opType} ${node.name}: ${scales.length} scales / ${zps.length} zero points for ${channels} channels`,
    );
  }
  const data = c.constant(wName, node).data as ArrayLike<number>;
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const ch = scales.length === 1 ? 0 : channelOf(i);
    out[i] = (data[i]! - zps[ch]!) * scales[ch]!;
  }
  return out;
}

/** Activations stay float: (de)quantizing one is the identity. */
function passThrough(c: Converter, node: OnnxNode): void {
  if (c.isConstant(node.inputs[0])) {
    throw new Error(`${node.opType} ${node.name}: (de)quantizing a constant is not supported`);
  }
  c.set(node.outputs[0], c.activation(node.inputs[0], node));
}

function qlinearConv(c: Converter, node: OnnxNode): void {
  const [xName, xScaleName, , wName, wScaleName, wZpName, yScaleName, yZpName, bName] = node.inputs;
  const x = c.activation(xName, node);
  const w = c.constant(wName, node);
  const [m, cPerGroup = 0, kh = 0, kw = 0] = w.dims as [number, number?, number?, number?];
  const perOut = cPerGroup * kh * kw;
  const real = dequantize(c, [wName!, wScaleName!, wZpName!], m, node, (i) => Math.floor(i / perOut));
  const bias = new Float32Array(m);
  if (bName) {
    const b = c.constant(bName, node);
    if (b.dataType !== OnnxDataType.INT32) throw new Error(`QLinearConv ${node.name}: bias must be int32`);
    const xScale = c.scalar(xScaleName, node);
    const wScales = c.numbers(wScaleName, node);
    const bData = b.data as Int32Array;
    for (let o = 0; o < m; o++) bias[o] = bData[o]! * xScale * wScales[wScales.length === 1 ? 0 : o]!;
  }
  const activation = foldedActivation(c, yScaleName!, yZpName!, node);
  const out = c.conv(node, x, real, w.dims, bias, activation === 'linear');
  c.set(node.outputs[0], activation === 'relu6' ? c.relu(out, c.layerName(node, '_relu6'), 6) : out);
}

function qlinearAdd(c: Converter, node: OnnxNode): void {
  const [aName, aScaleName, aZpName, bName, bScaleName, bZpName, cScaleName, cZpName] = node.inputs;
  const constName = [aName, bName].find((n) => c.isConstant(n));
  if (constName === undefined) {
    const sum = c.add(c.activation(aName, node), c.activation(bName, node), node);
    c.set(node.outputs[0], withFoldedRelu6(c, sum, cScaleName!, cZpName!, node));
    return;
  }
  // Bias of a preceding MatMul: fold both into one Dense layer.
  const other = c.value((constName === aName ? bName : aName)!);
  if (other?.kind !== 'matmul') {
    throw new Error(
      `QLinearAdd ${node.name}: adding a constant is only supported as the bias of a QLinearMatMul`,
    );
  }
  const names: [string, string, string] =
    constName === aName ? [aName, aScaleName!, aZpName!] : [bName!, bScaleName!, bZpName!];
  const bias = dequantize(c, names, 1, node, () => 0);
  if (bias.length !== other.outFeatures)
    throw new Error(`QLinearAdd ${node.name}: bias length ${bias.length}`);
  if (foldedActivation(c, cScaleName!, cZpName!, node) !== 'linear') {
    throw new Error(`QLinearAdd ${node.name}: a clipped Dense output is not supported`);
  }
  c.set(node.outputs[0], c.dense(other.input, other.kernel, other.outFeatures, bias, node));
}

function qlinearGlobalAveragePool(c: Converter, node: OnnxNode): void {
  if (intAttr(node, 'channels_last', 0) !== 0) {
    throw new Error(`QLinearGlobalAveragePool ${node.name}: channels_last=1 is not supported`);
  }
  const x = c.activation(node.inputs[0], node);
  if (x.tensor.shape.length !== 4)
    throw new Error(`QLinearGlobalAveragePool ${node.name}: input must be 4-D`);
  const layer = tf.layers.globalAveragePooling2d({ name: c.layerName(node) });
  // The average of ReLU6 outputs stays in [0, 6]: the output quantization needs no clip of its own.
  c.set(node.outputs[0], {
    kind: 'activation',
    tensor: layer.apply(x.tensor) as tf.SymbolicTensor,
    onnxShape: [null, x.onnxShape[1]!, 1, 1],
  });
}

function qlinearMatMul(c: Converter, node: OnnxNode): void {
  const [aName, , , bName, bScaleName, bZpName, yScaleName, yZpName] = node.inputs;
  const input = c.activation(aName, node);
  const b = c.constant(bName, node);
  if (input.onnxShape.length !== 2 || b.dims.length !== 2 || b.dims[0] !== input.onnxShape[1]) {
    throw new Error(
      `QLinearMatMul ${node.name}: [${input.onnxShape.join(',')}] x [${b.dims.join(',')}] is not supported`,
    );
  }
  if (foldedActivation(c, yScaleName!, yZpName!, node) !== 'linear') {
    throw new Error(`QLinearMatMul ${node.name}: a clipped MatMul output is not supported`);
  }
  const [inFeatures, outFeatures] = b.dims as [number, number];
  const kernel = dequantize(c, [bName!, bScaleName!, bZpName!], outFeatures, node, (i) => i % outFeatures);
  c.set(node.outputs[0], { kind: 'matmul', input, kernel, inFeatures, outFeatures, node });
}

export const QLINEAR_OPS: OpTable = {
  QuantizeLinear: { domain: '', run: passThrough },
  DequantizeLinear: { domain: '', run: passThrough },
  QLinearConv: { domain: '', run: qlinearConv },
  QLinearAdd: { domain: 'com.microsoft', run: qlinearAdd },
  QLinearGlobalAveragePool: { domain: 'com.microsoft', run: qlinearGlobalAveragePool },
  QLinearMatMul: { domain: '', run: qlinearMatMul },
};
