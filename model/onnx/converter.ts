/**
 * The state of one ONNX graph -> TF.js layers conversion, and the layer builders the op handlers share
 * (ops-float.ts, ops-qlinear.ts, ops-shape.ts; the walk itself is onnx-to-layers.ts).
 *
 * ONNX activations are NCHW; their TF.js tensors are NHWC. A pooled `[N, C, 1, 1]` ONNX tensor is held as a
 * `[N, C]` TF tensor (its `onnxShape` keeps the 4-D shape). Convolutions and their ReLU6 stay separate
 * layers (a linear Conv2D, then `ReLU({maxValue: 6})`): model/fused-forward.ts fuses exactly that pair, and
 * the 'relu6' activation of a conv layer is built from Minimum, which the wasm backend runs several times
 * slower.
 */
import * as tf from '@tensorflow/tfjs';
import { OnnxDataType, type OnnxGraph, type OnnxNode, type OnnxTensor } from './onnx-proto';

/** Shape arithmetic (Shape/Gather/Concat ...), evaluated while converting; `batch` is the dynamic dim. */
export interface ShapeExpr {
  kind: 'shape';
  dims: (number | 'batch')[];
}

/** A real-valued activation: the TF tensor is NHWC when the ONNX tensor is NCHW. */
export interface Activation {
  kind: 'activation';
  tensor: tf.SymbolicTensor;
  /** Shape of the ONNX tensor (batch as null). */
  onnxShape: (number | null)[];
}

/** A MatMul by a constant, waiting for the Add of its bias (both become one Dense layer). */
export interface PendingMatMul {
  kind: 'matmul';
  input: Activation;
  /** `[inFeatures, outFeatures]`, row-major (TF Dense layout). */
  kernel: Float32Array;
  inFeatures: number;
  outFeatures: number;
  node: OnnxNode;
}

export interface Constant {
  kind: 'constant';
  tensor: OnnxTensor;
}

export type Value = Activation | ShapeExpr | PendingMatMul | Constant;

export interface ImportSummary {
  opCounts: Record<string, number>;
  conv2d: number;
  depthwiseConv2d: number;
  relu6: number;
  /** ReLUs without an upper bound. */
  relu: number;
  add: number;
  dense: number;
}

export interface ConverterOptions {
  /** ONNX tensor -> name of the TF layer that produces it (e.g. `class_logits`); others get `onnx_<node>`. */
  layerNames?: Record<string, string>;
  /** Declared input height and width, when not the ONNX graph's. */
  inputSize?: [number, number];
}

/** ONNX conv weight `[M, C/group, kh, kw]` -> TF `[kh, kw, C, M]` (group 1) or `[kh, kw, C, M/C]` (depthwise). */
function tfKernel(w: Float32Array, dims: number[], depthwise: boolean): Float32Array {
  const [m, cPerGroup, kh, kw] = dims as [number, number, number, number];
  const out = new Float32Array(w.length);
  for (let o = 0; o < m; o++)
    for (let c = 0; c < cPerGroup; c++)
      for (let i = 0; i < kh; i++)
        for (let j = 0; j < kw; j++) {
          const src = ((o * cPerGroup + c) * kh + i) * kw + j;
          // Depthwise: output channel o = input channel * multiplier + k, which is TF's order too.
          out[depthwise ? (i * kw + j) * m + o : ((i * kw + j) * cPerGroup + c) * m + o] = w[src]!;
        }
  return out;
}

export class Converter {
  private readonly values = new Map<string, Value>();
  private readonly usedNames = new Set<string>();
  /** Weights to set once every layer is built: [layer, tensors]. */
  private readonly weights: [tf.layers.Layer, tf.Tensor[]][] = [];
  readonly input: tf.SymbolicTensor;
  readonly summary: ImportSummary = {
    opCounts: {},
    conv2d: 0,
    depthwiseConv2d: 0,
    relu6: 0,
    relu: 0,
    add: 0,
    dense: 0,
  };

  constructor(
    readonly graph: OnnxGraph,
    private readonly options: ConverterOptions = {},
  ) {
    for (const [name, tensor] of graph.initializers) this.values.set(name, { kind: 'constant', tensor });
    const inputs = graph.inputs.filter((i) => !graph.initializers.has(i.name));
    if (inputs.length !== 1) throw new Error(`expected one graph input, found ${inputs.length}`);
    const { name, shape = [] } = inputs[0]!;
    const [, c, h, w] = shape;
    if (shape.length !== 4 || typeof c !== 'number' || typeof h !== 'number' || typeof w !== 'number') {
      throw new Error(`graph input ${name}: expected [N,C,H,W], got [${shape.join(',')}]`);
    }
    const [height, width] = options.inputSize ?? [h, w];
    this.input = tf.input({ shape: [height, width, c], name: 'input', dtype: 'float32' });
    this.usedNames.add('input');
    this.values.set(name, { kind: 'activation', tensor: this.input, onnxShape: [null, c, height, width] });
  }

  value(name: string): Value | undefined {
    return this.values.get(name);
  }

  set(name: string | undefined, value: Value): void {
    if (!name) throw new Error('node without output');
    this.values.set(name, value);
  }

  isConstant(name: string | undefined): boolean {
    return name !== undefined && this.values.get(name)?.kind === 'constant';
  }

  constant(name: string | undefined, node: OnnxNode): OnnxTensor {
    const v = name ? this.values.get(name) : undefined;
    if (v?.kind !== 'constant')
      throw new Error(`${node.opType} ${node.name}: input ${name} must be a constant initializer`);
    return v.tensor;
  }

  numbers(name: string | undefined, node: OnnxNode): number[] {
    return Array.from(this.constant(name, node).data as ArrayLike<number>);
  }

  floats(name: string | undefined, node: OnnxNode): Float32Array {
    const t = this.constant(name, node);
    if (t.dataType !== OnnxDataType.FLOAT)
      throw new Error(`${node.opType} ${node.name}: ${name} must be float`);
    return t.data as Float32Array;
  }

  scalar(name: string | undefined, node: OnnxNode): number {
    const v = this.numbers(name, node);
    if (v.length !== 1)
      throw new Error(`${node.opType} ${node.name}: ${name} must be a scalar, has ${v.length} values`);
    return v[0]!;
  }

  activation(name: string | undefined, node: OnnxNode): Activation {
    const v = name ? this.values.get(name) : undefined;
    if (!v) throw new Error(`${node.opType} ${node.name}: input ${name} is not produced by any handled node`);
    if (v.kind === 'matmul') return this.materialize(name!, v);
    if (v.kind !== 'activation')
      throw new Error(`${node.opType} ${node.name}: input ${name} is not an activation`);
    return v;
  }

  /** A MatMul used as is (no bias follows): a Dense layer without bias, built once. */
  private materialize(name: string, mm: PendingMatMul): Activation {
    const out = this.dense(mm.input, mm.kernel, mm.outFeatures, undefined, mm.node);
    this.values.set(name, out);
    return out;
  }

  shapeExpr(name: string | undefined, node: OnnxNode): ShapeExpr {
    const v = name ? this.values.get(name) : undefined;
    if (v?.kind === 'shape') return v;
    if (
      v?.kind === 'constant' &&
      [OnnxDataType.INT64, OnnxDataType.INT32].includes(v.tensor.dataType as 6 | 7)
    ) {
      return { kind: 'shape', dims: Array.from(v.tensor.data as ArrayLike<number>) };
    }
    throw new Error(`${node.opType} ${node.name}: ${name} is not a shape value`);
  }

  /** `onnx_<node name>` (made a valid, unique TF name), or the name asked for the node's output tensor. */
  layerName(node: OnnxNode, suffix = '', producesOutput = true): string {
    const wanted = producesOutput ? this.options.layerNames?.[node.outputs[0] ?? ''] : undefined;
    const base =
      wanted ??
      `onnx_${(node.name || node.outputs[0] || 'node')
        .replace(/_quant$/, '')
        .replace(/^[^A-Za-z0-9]+/, '')
        .replace(/[^A-Za-z0-9_]/g, '_')}${suffix}`;
    let name = base;
    for (let i = 2; this.usedNames.has(name); i++) name = `${base}_${i}`;
    if (wanted !== undefined && name !== wanted) throw new Error(`layer name ${wanted} is taken`);
    this.usedNames.add(name);
    return name;
  }

  private withWeights<L extends tf.layers.Layer>(layer: L, tensors: tf.Tensor[]): L {
    this.weights.push([layer, tensors]);
    return layer;
  }

  /**
   * A 2-D convolution from float ONNX weights (`[M, C/group, kh, kw]`), group 1 or depthwise. ONNX pads
   * symmetrically; TF 'same' only matches that at stride 1 with odd kernels, so other padding becomes an
   * explicit ZeroPadding2D before a 'valid' conv (fused-forward folds it back into the conv kernel).
   */
  conv(
    node: OnnxNode,
    x: Activation,
    w: Float32Array,
    dims: number[],
    bias: Float32Array,
    last = true,
  ): Activation {
    if (dims.length !== 4)
      throw new Error(`${node.opType} ${node.name}: only 2-D convolutions are supported`);
    if (x.tensor.shape.length !== 4) throw new Error(`${node.opType} ${node.name}: input must be a 4-D map`);
    const [m, cPerGroup, kh, kw] = dims as [number, number, number, number];
    const inChannels = x.onnxShape[1]!;
    const attr = <T>(key: string, fallback: T) => (node.attributes.get(key) as T | undefined) ?? fallback;
    const group = Number(attr('group', 1));
    const [sh, sw] = attr('strides', [1, 1]);
    const pads = attr('pads', [0, 0, 0, 0]);
    const autoPad = attr('auto_pad', 'NOTSET');
    if (autoPad !== 'NOTSET' && autoPad !== '')
      throw new Error(`${node.opType} ${node.name}: auto_pad ${autoPad} is not supported`);
    if (attr('dilations', [1, 1]).some((d) => d !== 1))
      throw new Error(`${node.opType} ${node.name}: dilation is not supported`);
    const kernelShape = attr<number[] | undefined>('kernel_shape', undefined);
    if (kernelShape && (kernelShape[0] !== kh || kernelShape[1] !== kw))
      throw new Error(`${node.opType} ${node.name}: kernel_shape disagrees with the weight`);
    const depthwise = group > 1 && group === inChannels && cPerGroup === 1 && m % inChannels === 0;
    if (!depthwise && !(group === 1 && cPerGroup === inChannels)) {
      throw new Error(
        `${node.opType} ${node.name}: group ${group} with weight [${dims.join(',')}] is not supported`,
      );
    }
    if (bias.length !== m)
      throw new Error(`${node.opType} ${node.name}: ${bias.length} biases for ${m} channels`);

    const [padTop, padLeft, padBottom, padRight] = pads as [number, number, number, number];
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
      const name = this.layerName(node, '_pad', false);
      const pad = tf.layers.zeroPadding2d({
        padding: [
          [padTop, padBottom],
          [padLeft, padRight],
        ],
        name,
      });
      input = pad.apply(input) as tf.SymbolicTensor;
    }
    const common = {
      kernelSize: [kh, kw] as [number, number],
      strides: [sh, sw] as [number, number],
      padding,
      useBias: true,
      biasInitializer: 'zeros' as const,
      name: this.layerName(node, '', last),
    };
    const kernel = tfKernel(w, dims, depthwise);
    const layer = depthwise
      ? tf.layers.depthwiseConv2d({
          ...common,
          depthMultiplier: m / inChannels,
          depthwiseInitializer: 'zeros',
        })
      : tf.layers.conv2d({ ...common, filters: m, kernelInitializer: 'zeros' });
    const shape: [number, number, number, number] = depthwise
      ? [kh, kw, inChannels, m / inChannels]
      : [kh, kw, cPerGroup, m];
    this.withWeights(layer, [tf.tensor4d(kernel, shape), tf.tensor1d(bias)]);
    if (depthwise) this.summary.depthwiseConv2d++;
    else this.summary.conv2d++;
    const out = layer.apply(input) as tf.SymbolicTensor;
    const [, oh, ow] = out.shape as [null, number, number, number];
    return { kind: 'activation', tensor: out, onnxShape: [null, m, oh, ow] };
  }

  /** `ReLU` layer, optionally bounded (6 for MobileNet's ReLU6: fused-forward fuses 6 and unbounded only). */
  relu(x: Activation, name: string, maxValue?: number): Activation {
    if (maxValue === 6) this.summary.relu6++;
    else if (maxValue === undefined) this.summary.relu++;
    const layer = tf.layers.reLU({ ...(maxValue === undefined ? {} : { maxValue }), name });
    return { kind: 'activation', tensor: layer.apply(x.tensor) as tf.SymbolicTensor, onnxShape: x.onnxShape };
  }

  /** `x · kernel + bias` as a Dense layer; `kernel` is `[in, out]` row-major. */
  dense(
    x: Activation,
    kernel: Float32Array,
    units: number,
    bias: Float32Array | undefined,
    node: OnnxNode,
  ): Activation {
    if (x.tensor.shape.length !== 2 || kernel.length !== (x.tensor.shape[1] as number) * units) {
      throw new Error(
        `${node.opType} ${node.name}: a [${x.onnxShape.join(',')}] input does not fit a ${units}-unit layer`,
      );
    }
    const layer = tf.layers.dense({
      units,
      useBias: bias !== undefined,
      kernelInitializer: 'zeros',
      name: this.layerName(node),
    });
    const tensors: tf.Tensor[] = [tf.tensor2d(kernel, [kernel.length / units, units])];
    if (bias) tensors.push(tf.tensor1d(bias));
    this.withWeights(layer, tensors);
    this.summary.dense++;
    return {
      kind: 'activation',
      tensor: layer.apply(x.tensor) as tf.SymbolicTensor,
      onnxShape: [null, units],
    };
  }

  add(a: Activation, b: Activation, node: OnnxNode): Activation {
    if (a.onnxShape.join() !== b.onnxShape.join()) {
      throw new Error(
        `${node.opType} ${node.name}: broadcasting [${a.onnxShape.join(',')}] + [${b.onnxShape.join(',')}] is not supported`,
      );
    }
    this.summary.add++;
    const layer = tf.layers.add({ name: this.layerName(node) });
    return {
      kind: 'activation',
      tensor: layer.apply([a.tensor, b.tensor]) as tf.SymbolicTensor,
      onnxShape: a.onnxShape,
    };
  }

  output(name: string): tf.SymbolicTensor {
    const v = this.values.get(name);
    if (!v) throw new Error(`ONNX tensor ${name} was not produced`);
    if (v.kind === 'matmul') return this.materialize(name, v).tensor;
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

/** Converts one node: reads its inputs from `c`, builds layers, stores its outputs in `c`. */
export type OpHandler = (c: Converter, node: OnnxNode) => void;

/** Handlers by op type, with the domain the op must come from ('' = ai.onnx). */
export type OpTable = Record<string, { domain: string; run: OpHandler }>;

/** An integer attribute, or its default. */
export function intAttr(node: OnnxNode, key: string, fallback: number): number {
  return Number(node.attributes.get(key) ?? fallback);
}

/** Axes from the attribute (older opsets) or the second input (Unsqueeze 13, ReduceMean 18). */
export function axesOf(c: Converter, node: OnnxNode, inputIndex: number): number[] | undefined {
  const attr = node.attributes.get('axes') as number[] | undefined;
  const input = node.inputs[inputIndex];
  return attr ?? (input ? c.numbers(input, node) : undefined);
}
