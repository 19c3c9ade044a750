/**
 * Rebuilds the ONNX Model Zoo `mobilenetv2-12-int8` (QLinear ops, NCHW) as a float32 TF.js layers model (NHWC).
 *
 * Weights and biases are dequantized; activations run in float, so every activation QuantizeLinear /
 * DequantizeLinear disappears. The quantizer folded each ReLU6 (Clip 0..6) of the float network into the
 * output quantization of the conv before it: such an output has the zero point that makes real 0 the lowest
 * representable value, and an upper bound of at most 6. Those convs get `relu6`; the others (projection convs,
 * residual adds) stay linear, as in the original MobileNetV2.
 */
import * as tf from '@tensorflow/tfjs';
import {
  OnnxDataType,
  readOnnxModel,
  type OnnxGraph,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
} from './onnx-proto';

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

export interface ImportSummary {
  opCounts: Record<string, number>;
  conv2d: number;
  depthwiseConv2d: number;
  relu6: number;
  add: number;
  dense: number;
}

type ShapeExpr = { kind: 'shape'; dims: (number | 'batch')[] };

/** A real-valued activation: the TF tensor is NHWC when the ONNX tensor is NCHW. */
interface Activation {
  kind: 'activation';
  tensor: tf.SymbolicTensor;
  /** Shape of the ONNX tensor (batch as null). */
  onnxShape: (number | null)[];
}

interface PendingMatMul {
  kind: 'matmul';
  input: Activation;
  kernel: Float32Array;
  inFeatures: number;
  outFeatures: number;
  nodeName: string;
}

type Value = Activation | ShapeExpr | PendingMatMul;

const HANDLED_OPS: Record<string, string> = {
  QuantizeLinear: '',
  DequantizeLinear: '',
  QLinearConv: '',
  QLinearAdd: 'com.microsoft',
  QLinearGlobalAveragePool: 'com.microsoft',
  QLinearMatMul: '',
  Shape: '',
  Gather: '',
  Unsqueeze: '',
  Concat: '',
  Reshape: '',
};

function layerName(node: OnnxNode, suffix = ''): string {
  const base = (node.name || node.outputs[0] || 'node').replace(/_quant$/, '').replace(/[^A-Za-z0-9_]/g, '_');
  return `onnx_${base}${suffix}`;
}

function quantRange(dataType: number): [number, number] {
  if (dataType === OnnxDataType.UINT8) return [0, 255];
  if (dataType === OnnxDataType.INT8) return [-128, 127];
  throw new Error(`unsupported quantized data type ${dataType}`);
}

class Converter {
  private readonly values = new Map<string, Value>();
  readonly summary: ImportSummary = {
    opCounts: {},
    conv2d: 0,
    depthwiseConv2d: 0,
    relu6: 0,
    add: 0,
    dense: 0,
  };
  /** Weights to set once every layer is built: [layer, tensors]. */
  private readonly weights: [tf.layers.Layer, tf.Tensor[]][] = [];
  input: tf.SymbolicTensor | undefined;

  constructor(private readonly graph: OnnxGraph) {}

  private init(name: string, node: OnnxNode): OnnxTensor {
    const t = this.graph.initializers.get(name);
    if (!t) throw new Error(`${node.opType} ${node.name}: input ${name} must be a constant initializer`);
    return t;
  }

  private numbers(name: string, node: OnnxNode): number[] {
    return Array.from(this.init(name, node).data as ArrayLike<number>);
  }

  private scalar(name: string, node: OnnxNode): number {
    const v = this.numbers(name, node);
    if (v.length !== 1)
      throw new Error(`${node.opType} ${node.name}: ${name} must be a scalar, has ${v.length} values`);
    return v[0]!;
  }

  private activation(name: string, node: OnnxNode): Activation {
    const v = this.values.get(name);
    if (!v) throw new Error(`${node.opType} ${node.name}: input ${name} is not produced by any handled node`);
    if (v.kind === 'matmul') return this.materializeDense(v, undefined, name);
    if (v.kind !== 'activation')
      throw new Error(`${node.opType} ${node.name}: input ${name} is not an activation`);
    return v;
  }

  private shapeExpr(name: string, node: OnnxNode): ShapeExpr {
    const v = this.values.get(name);
    if (v?.kind === 'shape') return v;
    const t = this.graph.initializers.get(name);
    if (t && (t.dataType === OnnxDataType.INT64 || t.dataType === OnnxDataType.INT32)) {
      return { kind: 'shape', dims: Array.from(t.data as ArrayLike<number>) };
    }
    throw new Error(`${node.opType} ${node.name}: ${name} is not a shape value`);
  }

  private set(name: string | undefined, value: Value): void {
    if (!name) throw new Error('node without output');
    this.values.set(name, value);
  }

  /**
   * Activation implied by an output quantization. When real 0 is the lowest representable value, a ReLU-type
   * clip was folded into the quantization; with an upper bound of at most 6 it is the network's ReLU6.
   */
  private foldedActivation(scaleName: string, zpName: string, node: OnnxNode): 'relu6' | 'linear' {
    const scale = this.scalar(scaleName, node);
    const zpTensor = this.init(zpName, node);
    const zp = this.scalar(zpName, node);
    const [qmin, qmax] = quantRange(zpTensor.dataType);
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

  /**
   * A separate ReLU layer (Relu + ClipByValue kernels): the 'relu6' activation of conv layers is built from
   * Minimum, which the wasm backend runs several times slower.
   */
  private relu6(x: tf.SymbolicTensor, node: OnnxNode): tf.SymbolicTensor {
    this.summary.relu6++;
    return tf.layers.reLU({ maxValue: 6, name: layerName(node, '_relu6') }).apply(x) as tf.SymbolicTensor;
  }

  private dequantizePerChannel(
    wName: string,
    scaleName: string,
    zpName: string,
    channels: number,
    node: OnnxNode,
    channelOf: (i: number) => number,
  ): Float32Array {
    const w = this.init(wName, node);
    const scales = this.numbers(scaleName, node);
    const zps = this.numbers(zpName, node);
    if ((scales.length !== 1 && scales.length !== channels) || zps.length !== scales.length) {
      throw new Error(
        `${node.opType} ${node.name}: ${scales.length} scales / ${zps.length} zero points for ${channels} channels`,
      );
    }
    const data = w.data as ArrayLike<number>;
    const out = new Float32Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const c = scales.length === 1 ? 0 : channelOf(i);
      out[i] = (data[i]! - zps[c]!) * scales[c]!;
    }
    return out;
  }

  run(node: OnnxNode): void {
    const expectedDomain = HANDLED_OPS[node.opType];
    if (expectedDomain === undefined) {
      throw new Error(
        `ONNX op ${node.domain ? node.domain + '.' : ''}${node.opType} (node ${node.name}) is not supported`,
      );
    }
    const domain = node.domain === 'ai.onnx' ? '' : node.domain;
    if (domain !== expectedDomain) {
      throw new Error(
        `ONNX op ${node.opType} (node ${node.name}) from domain '${node.domain}' is not supported`,
      );
    }
    this.summary.opCounts[node.opType] = (this.summary.opCounts[node.opType] ?? 0) + 1;
    switch (node.opType) {
      case 'QuantizeLinear':
        return this.quantizeLinear(node);
      case 'DequantizeLinear':
        return this.dequantizeLinear(node);
      case 'QLinearConv':
        return this.qlinearConv(node);
      case 'QLinearAdd':
        return this.qlinearAdd(node);
      case 'QLinearGlobalAveragePool':
        return this.qlinearGlobalAveragePool(node);
      case 'QLinearMatMul':
        return this.qlinearMatMul(node);
      case 'Shape':
        return this.shape(node);
      case 'Gather':
        return this.gather(node);
      case 'Unsqueeze':
        return this.unsqueeze(node);
      case 'Concat':
        return this.concat(node);
      case 'Reshape':
        return this.reshape(node);
    }
  }

  private quantizeLinear(node: OnnxNode): void {
    const [x] = node.inputs;
    const graphInput = this.graph.inputs.find((i) => i.name === x);
    if (graphInput) {
      const shape = graphInput.shape ?? [];
      const [, c, h, w] = shape;
      if (shape.length !== 4 || c !== 3 || typeof h !== 'number' || typeof w !== 'number') {
        throw new Error(`graph input ${x}: expected [N,3,H,W], got [${shape.join(',')}]`);
      }
      if (this.input) throw new Error('more than one graph input is quantized');
      this.input = tf.input({ shape: [h, w, 3], name: 'input', dtype: 'float32' });
      this.set(node.outputs[0], { kind: 'activation', tensor: this.input, onnxShape: [null, 3, h, w] });
      return;
    }
    // Re-quantizing an activation: identity in float.
    this.set(node.outputs[0], this.activation(x!, node));
  }

  private dequantizeLinear(node: OnnxNode): void {
    const [x] = node.inputs;
    if (this.graph.initializers.has(x!)) {
      throw new Error(`DequantizeLinear ${node.name}: dequantizing a constant is not supported`);
    }
    this.set(node.outputs[0], this.activation(x!, node));
  }

  private qlinearConv(node: OnnxNode): void {
    const [xName, xScaleName, , wName, wScaleName, wZpName, yScaleName, yZpName, bName] = node.inputs;
    const x = this.activation(xName!, node);
    const w = this.init(wName!, node);
    const [m, cPerGroup, kh, kw] = w.dims as [number, number, number, number];
    if (w.dims.length !== 4) throw new Error(`QLinearConv ${node.name}: only 2-D convolutions are supported`);
    const inChannels = x.onnxShape[1]!;
    const group = Number(node.attributes.get('group') ?? 1);
    const strides = (node.attributes.get('strides') as number[] | undefined) ?? [1, 1];
    const dilations = (node.attributes.get('dilations') as number[] | undefined) ?? [1, 1];
    const pads = (node.attributes.get('pads') as number[] | undefined) ?? [0, 0, 0, 0];
    const autoPad = node.attributes.get('auto_pad');
    if (autoPad !== undefined && autoPad !== 'NOTSET') {
      throw new Error(`QLinearConv ${node.name}: auto_pad ${String(autoPad)} is not supported`);
    }
    if (dilations.some((d) => d !== 1))
      throw new Error(`QLinearConv ${node.name}: dilation is not supported`);
    const kernelShape = node.attributes.get('kernel_shape') as number[] | undefined;
    if (kernelShape && (kernelShape[0] !== kh || kernelShape[1] !== kw)) {
      throw new Error(`QLinearConv ${node.name}: kernel_shape disagrees with the weight`);
    }
    const depthwise = group > 1 && group === inChannels && cPerGroup === 1 && m === inChannels;
    if (!depthwise && !(group === 1 && cPerGroup === inChannels)) {
      throw new Error(
        `QLinearConv ${node.name}: group ${group} with weight [${w.dims.join(',')}] is not supported`,
      );
    }
    const perOut = cPerGroup * kh * kw;
    const real = this.dequantizePerChannel(wName!, wScaleName!, wZpName!, m, node, (i) =>
      Math.floor(i / perOut),
    );
    // ONNX [M, C/g, kh, kw] -> TF [kh, kw, C, M] (conv) or [kh, kw, C, 1] (depthwise).
    const kernel = new Float32Array(real.length);
    for (let o = 0; o < m; o++) {
      for (let c = 0; c < cPerGroup; c++) {
        for (let i = 0; i < kh; i++) {
          for (let j = 0; j < kw; j++) {
            const src = ((o * cPerGroup + c) * kh + i) * kw + j;
            const dst = depthwise ? (i * kw + j) * m + o : ((i * kw + j) * cPerGroup + c) * m + o;
            kernel[dst] = real[src]!;
          }
        }
      }
    }
    const bias = new Float32Array(m);
    if (bName) {
      const b = this.init(bName, node);
      if (b.dataType !== OnnxDataType.INT32) throw new Error(`QLinearConv ${node.name}: bias must be int32`);
      const xScale = this.scalar(xScaleName!, node);
      const wScales = this.numbers(wScaleName!, node);
      const bData = b.data as Int32Array;
      for (let o = 0; o < m; o++) bias[o] = bData[o]! * xScale * wScales[wScales.length === 1 ? 0 : o]!;
    }
    const activation = this.foldedActivation(yScaleName!, yZpName!, node);

    const [padTop, padLeft, padBottom, padRight] = pads as [number, number, number, number];
    const [sh, sw] = strides as [number, number];
    // ONNX pads symmetrically; TF 'same' only matches that at stride 1 with odd kernels.
    const sameAtStride1 =
      sh === 1 &&
      sw === 1 &&
      padTop === padBottom &&
      padLeft === padRight &&
      padTop === (kh - 1) / 2 &&
      padLeft === (kw - 1) / 2;
    let input = x.tensor;
    let padding: 'same' | 'valid' = 'valid';
    if (sameAtStride1 && padTop > 0) {
      padding = 'same';
    } else if (pads.some((p) => p !== 0)) {
      const pad = tf.layers.zeroPadding2d({
        padding: [
          [padTop, padBottom],
          [padLeft, padRight],
        ],
        name: layerName(node, '_pad'),
      });
      input = pad.apply(input) as tf.SymbolicTensor;
    }
    const common = {
      kernelSize: [kh, kw] as [number, number],
      strides: [sh, sw],
      padding,
      useBias: true,
      name: layerName(node),
    };
    const layer = depthwise
      ? tf.layers.depthwiseConv2d({ ...common, depthMultiplier: 1 })
      : tf.layers.conv2d({ ...common, filters: m });
    let out = layer.apply(input) as tf.SymbolicTensor;
    this.weights.push([
      layer,
      [tf.tensor4d(kernel, depthwise ? [kh, kw, m, 1] : [kh, kw, cPerGroup, m]), tf.tensor1d(bias)],
    ]);
    if (depthwise) this.summary.depthwiseConv2d++;
    else this.summary.conv2d++;
    if (activation === 'relu6') out = this.relu6(out, node);
    const [, oh, ow] = out.shape as [null, number, number, number];
    this.set(node.outputs[0], { kind: 'activation', tensor: out, onnxShape: [null, m, oh, ow] });
  }

  private qlinearAdd(node: OnnxNode): void {
    const [aName, , , bName, bScaleName, bZpName, cScaleName, cZpName] = node.inputs;
    const constName = [aName, bName].find((n) => this.graph.initializers.has(n!));
    if (constName !== undefined) {
      // Bias of a preceding MatMul: fold both into one Dense layer.
      const otherName = constName === aName ? bName : aName;
      const other = this.values.get(otherName!);
      if (other?.kind !== 'matmul') {
        throw new Error(
          `QLinearAdd ${node.name}: adding a constant is only supported as the bias of a QLinearMatMul`,
        );
      }
      const [scaleName, zpName] =
        constName === aName ? [node.inputs[1]!, node.inputs[2]!] : [bScaleName!, bZpName!];
      const bias = this.dequantizePerChannel(constName!, scaleName, zpName, 1, node, () => 0);
      if (bias.length !== other.outFeatures)
        throw new Error(`QLinearAdd ${node.name}: bias length ${bias.length}`);
      if (this.foldedActivation(cScaleName!, cZpName!, node) !== 'linear') {
        throw new Error(`QLinearAdd ${node.name}: a clipped Dense output is not supported`);
      }
      this.set(node.outputs[0], this.materializeDense(other, bias, node.name));
      return;
    }
    const a = this.activation(aName!, node);
    const b = this.activation(bName!, node);
    if (a.onnxShape.join() !== b.onnxShape.join()) {
      throw new Error(
        `QLinearAdd ${node.name}: broadcasting [${a.onnxShape.join(',')}] + [${b.onnxShape.join(',')}] is not supported`,
      );
    }
    let out = tf.layers.add({ name: layerName(node) }).apply([a.tensor, b.tensor]) as tf.SymbolicTensor;
    this.summary.add++;
    if (this.foldedActivation(cScaleName!, cZpName!, node) === 'relu6') out = this.relu6(out, node);
    this.set(node.outputs[0], { kind: 'activation', tensor: out, onnxShape: a.onnxShape });
  }

  private qlinearGlobalAveragePool(node: OnnxNode): void {
    if (Number(node.attributes.get('channels_last') ?? 0) !== 0) {
      throw new Error(`QLinearGlobalAveragePool ${node.name}: channels_last=1 is not supported`);
    }
    const x = this.activation(node.inputs[0]!, node);
    if (x.onnxShape.length !== 4) throw new Error(`QLinearGlobalAveragePool ${node.name}: input must be 4-D`);
    const out = tf.layers
      .globalAveragePooling2d({ name: layerName(node) })
      .apply(x.tensor) as tf.SymbolicTensor;
    // The average of ReLU6 outputs stays in [0, 6]: the output quantization needs no clip of its own.
    this.set(node.outputs[0], { kind: 'activation', tensor: out, onnxShape: [null, x.onnxShape[1]!, 1, 1] });
  }

  private qlinearMatMul(node: OnnxNode): void {
    const [aName, , , bName, bScaleName, bZpName, yScaleName, yZpName] = node.inputs;
    const a = this.activation(aName!, node);
    const b = this.init(bName!, node);
    if (a.onnxShape.length !== 2 || b.dims.length !== 2 || b.dims[0] !== a.onnxShape[1]) {
      throw new Error(
        `QLinearMatMul ${node.name}: [${a.onnxShape.join(',')}] x [${b.dims.join(',')}] is not supported`,
      );
    }
    if (this.foldedActivation(yScaleName!, yZpName!, node) !== 'linear') {
      throw new Error(`QLinearMatMul ${node.name}: a clipped MatMul output is not supported`);
    }
    const [inFeatures, outFeatures] = b.dims as [number, number];
    const kernel = this.dequantizePerChannel(
      bName!,
      bScaleName!,
      bZpName!,
      outFeatures,
      node,
      (i) => i % outFeatures,
    );
    this.set(node.outputs[0], {
      kind: 'matmul',
      input: a,
      kernel,
      inFeatures,
      outFeatures,
      nodeName: node.name,
    });
  }

  private materializeDense(mm: PendingMatMul, bias: Float32Array | undefined, name: string): Activation {
    const layer = tf.layers.dense({
      units: mm.outFeatures,
      useBias: bias !== undefined,
      name: `onnx_${name.replace(/_quant$/, '').replace(/[^A-Za-z0-9_]/g, '_')}`,
    });
    const out = layer.apply(mm.input.tensor) as tf.SymbolicTensor;
    const w: tf.Tensor[] = [tf.tensor2d(mm.kernel, [mm.inFeatures, mm.outFeatures])];
    if (bias) w.push(tf.tensor1d(bias));
    this.weights.push([layer, w]);
    this.summary.dense++;
    return { kind: 'activation', tensor: out, onnxShape: [null, mm.outFeatures] };
  }

  private shape(node: OnnxNode): void {
    const x = this.activation(node.inputs[0]!, node);
    if (node.attributes.has('start') || node.attributes.has('end'))
      throw new Error(`Shape ${node.name}: start/end not supported`);
    this.set(node.outputs[0], { kind: 'shape', dims: x.onnxShape.map((d) => d ?? 'batch') });
  }

  private gather(node: OnnxNode): void {
    const data = this.shapeExpr(node.inputs[0]!, node);
    const indices = this.init(node.inputs[1]!, node);
    if (Number(node.attributes.get('axis') ?? 0) !== 0 || indices.dims.length !== 0) {
      throw new Error(`Gather ${node.name}: only a scalar index on axis 0 of a shape is supported`);
    }
    let index = Number((indices.data as ArrayLike<number>)[0]);
    if (index < 0) index += data.dims.length;
    const dim = data.dims[index];
    if (dim === undefined) throw new Error(`Gather ${node.name}: index out of range`);
    // A scalar: kept as a one-element expression, and Unsqueeze below leaves it as is.
    this.set(node.outputs[0], { kind: 'shape', dims: [dim] });
  }

  private unsqueeze(node: OnnxNode): void {
    const axes = node.attributes.get('axes') as number[] | undefined;
    if (!axes || axes.length !== 1 || axes[0] !== 0 || node.inputs.length !== 1) {
      throw new Error(`Unsqueeze ${node.name}: only axes=[0] on a scalar shape value is supported`);
    }
    const data = this.shapeExpr(node.inputs[0]!, node);
    if (data.dims.length !== 1) throw new Error(`Unsqueeze ${node.name}: input is not a scalar`);
    this.set(node.outputs[0], data);
  }

  private concat(node: OnnxNode): void {
    if (Number(node.attributes.get('axis')) !== 0)
      throw new Error(`Concat ${node.name}: only axis 0 of shape values`);
    const dims = node.inputs.flatMap((n) => this.shapeExpr(n, node).dims);
    this.set(node.outputs[0], { kind: 'shape', dims });
  }

  private reshape(node: OnnxNode): void {
    const x = this.activation(node.inputs[0]!, node);
    const target = this.shapeExpr(node.inputs[1]!, node).dims;
    if (target.length !== 2 || target[0] !== 'batch' || target[1] !== -1) {
      throw new Error(
        `Reshape ${node.name}: only flattening to [batch, -1] is supported, got [${target.join(',')}]`,
      );
    }
    const features = x.onnxShape.slice(1).reduce<number>((a, b) => a * b!, 1);
    let out = x.tensor;
    if (x.onnxShape.length === 4) {
      // TF holds NHWC; ONNX flattens NCHW. Reorder unless the spatial size is 1x1.
      if (x.tensor.shape.length === 4) {
        if (x.onnxShape[2] !== 1 || x.onnxShape[3] !== 1) {
          out = tf.layers
            .permute({ dims: [3, 1, 2], name: layerName(node, '_nchw') })
            .apply(out) as tf.SymbolicTensor;
        }
        out = tf.layers.flatten({ name: layerName(node) }).apply(out) as tf.SymbolicTensor;
      }
      // else: a [N,C,1,1] ONNX tensor already held as [N,C] (global pooling).
    } else if (x.onnxShape.length !== 2) {
      throw new Error(`Reshape ${node.name}: rank ${x.onnxShape.length} input is not supported`);
    }
    this.set(node.outputs[0], { kind: 'activation', tensor: out, onnxShape: [null, features] });
  }

  output(name: string): tf.SymbolicTensor {
    const v = this.values.get(name);
    if (!v) throw new Error(`ONNX tensor ${name} was not produced`);
    if (v.kind === 'matmul') return this.materializeDense(v, undefined, v.nodeName).tensor;
    if (v.kind !== 'activation') throw new Error(`ONNX tensor ${name} is not an activation`);
    return v.tensor;
  }

  assignWeights(): void {
    for (const [layer, tensors] of this.weights) {
      layer.setWeights(tensors);
      tf.dispose(tensors);
    }
    this.weights.length = 0;
  }

  disposeWeights(): void {
    for (const [, tensors] of this.weights) tf.dispose(tensors);
    this.weights.length = 0;
  }
}

export interface ImportResult {
  model: tf.LayersModel;
  summary: ImportSummary;
  onnx: OnnxModel;
}

/** Converts a decoded ONNX MobileNetV2 int8 model; outputs are `[featureMap NHWC, logits]`. */
export function convertMobileNetV2(onnx: OnnxModel, options: ImportOptions = {}): ImportResult {
  const featureTensor = options.featureTensor ?? MOBILENETV2_FEATURE_TENSOR;
  const { graph } = onnx;
  const unknown = [
    ...new Set(graph.nodes.filter((n) => HANDLED_OPS[n.opType] === undefined).map((n) => n.opType)),
  ];
  if (unknown.length > 0) throw new Error(`ONNX model uses unsupported ops: ${unknown.join(', ')}`);
  if (graph.outputs.length !== 1) throw new Error(`expected one graph output, found ${graph.outputs.length}`);
  const converter = new Converter(graph);
  try {
    for (const node of graph.nodes) converter.run(node);
    if (!converter.input) throw new Error('the graph input is never quantized');
    const features = converter.output(featureTensor);
    const logits = converter.output(graph.outputs[0]!.name);
    const model = tf.model({
      inputs: converter.input,
      outputs: [features, logits],
      name: options.modelName ?? 'mobilenetv2_100_from_onnx',
    });
    converter.assignWeights();
    return { model, summary: converter.summary, onnx };
  } catch (error) {
    converter.disposeWeights();
    throw error;
  }
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
