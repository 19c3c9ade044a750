/**
 * Structural ONNX ops: constants, identities, and the shape arithmetic exporters emit around a flatten
 * (`Shape -> Gather -> Unsqueeze -> Concat -> Reshape`), evaluated while converting. Only flattening to
 * `[batch, features]` becomes a layer.
 */
import * as tf from '@tensorflow/tfjs';
import { axesOf, intAttr, type Activation, type Converter, type OpTable } from './converter';
import { OnnxDataType, type OnnxNode, type OnnxTensor } from './onnx-proto';

function constantNode(c: Converter, node: OnnxNode): void {
  const a = node.attributes;
  const tensor = (dataType: number, values: number[], dims: number[]): OnnxTensor => ({
    name: node.outputs[0]!,
    dims,
    dataType,
    data: dataType === OnnxDataType.FLOAT ? Float32Array.from(values) : values,
  });
  let value: OnnxTensor;
  const v = a.get('value');
  if (v !== undefined && typeof v === 'object' && !Array.isArray(v)) value = v;
  else if (a.has('value_float')) value = tensor(OnnxDataType.FLOAT, [Number(a.get('value_float'))], []);
  else if (a.has('value_floats')) value = tensor(OnnxDataType.FLOAT, a.get('value_floats') as number[], [-1]);
  else if (a.has('value_int')) value = tensor(OnnxDataType.INT64, [Number(a.get('value_int'))], []);
  else if (a.has('value_ints')) value = tensor(OnnxDataType.INT64, a.get('value_ints') as number[], [-1]);
  else throw new Error(`Constant ${node.name}: only tensor, float(s) and int(s) values are supported`);
  if (value.dims[0] === -1) value = { ...value, dims: [value.data.length] };
  c.set(node.outputs[0], { kind: 'constant', tensor: value });
}

function identity(c: Converter, node: OnnxNode): void {
  const v = c.value(node.inputs[0]!);
  if (!v)
    throw new Error(`Identity ${node.name}: input ${node.inputs[0]} is not produced by any handled node`);
  c.set(node.outputs[0], v);
}

function shape(c: Converter, node: OnnxNode): void {
  const x = c.activation(node.inputs[0], node);
  if (node.attributes.has('start') || node.attributes.has('end'))
    throw new Error(`Shape ${node.name}: start/end not supported`);
  c.set(node.outputs[0], { kind: 'shape', dims: x.onnxShape.map((d) => d ?? 'batch') });
}

function gather(c: Converter, node: OnnxNode): void {
  const data = c.shapeExpr(node.inputs[0], node);
  const indices = c.constant(node.inputs[1], node);
  if (intAttr(node, 'axis', 0) !== 0 || indices.dims.length !== 0) {
    throw new Error(`Gather ${node.name}: only a scalar index on axis 0 of a shape is supported`);
  }
  let index = Number((indices.data as ArrayLike<number>)[0]);
  if (index < 0) index += data.dims.length;
  const dim = data.dims[index];
  if (dim === undefined) throw new Error(`Gather ${node.name}: index out of range`);
  // A scalar: kept as a one-element expression, and Unsqueeze below leaves it as is.
  c.set(node.outputs[0], { kind: 'shape', dims: [dim] });
}

function unsqueeze(c: Converter, node: OnnxNode): void {
  const axes = axesOf(c, node, 1);
  if (!axes || axes.length !== 1 || axes[0] !== 0) {
    throw new Error(`Unsqueeze ${node.name}: only axes=[0] on a scalar shape value is supported`);
  }
  const data = c.shapeExpr(node.inputs[0], node);
  if (data.dims.length !== 1) throw new Error(`Unsqueeze ${node.name}: input is not a scalar`);
  c.set(node.outputs[0], data);
}

function concat(c: Converter, node: OnnxNode): void {
  if (intAttr(node, 'axis', NaN) !== 0) throw new Error(`Concat ${node.name}: only axis 0 of shape values`);
  c.set(node.outputs[0], { kind: 'shape', dims: node.inputs.flatMap((n) => c.shapeExpr(n, node).dims) });
}

/** ONNX flattens NCHW: a TF NHWC map is put back in channel-first order first, unless it is 1x1. */
function flatten(c: Converter, node: OnnxNode, x: Activation): Activation {
  const features = x.onnxShape.slice(1).reduce<number>((a, b) => a * b!, 1);
  let out = x.tensor;
  if (x.tensor.shape.length === 4) {
    if (x.onnxShape[2] !== 1 || x.onnxShape[3] !== 1) {
      const permute = tf.layers.permute({ dims: [3, 1, 2], name: c.layerName(node, '_nchw', false) });
      out = permute.apply(out) as tf.SymbolicTensor;
    }
    out = tf.layers.flatten({ name: c.layerName(node) }).apply(out) as tf.SymbolicTensor;
  } else if (x.tensor.shape.length !== 2) {
    throw new Error(`${node.opType} ${node.name}: rank ${x.onnxShape.length} input is not supported`);
  }
  // else: already [N, features] (a pooled [N,C,1,1] ONNX tensor is held as [N,C]).
  return { kind: 'activation', tensor: out, onnxShape: [null, features] };
}

function flattenOp(c: Converter, node: OnnxNode): void {
  if (intAttr(node, 'axis', 1) !== 1) throw new Error(`Flatten ${node.name}: only axis 1 is supported`);
  c.set(node.outputs[0], flatten(c, node, c.activation(node.inputs[0], node)));
}

function reshape(c: Converter, node: OnnxNode): void {
  const x = c.activation(node.inputs[0], node);
  const target = c.shapeExpr(node.inputs[1], node).dims;
  const features = x.onnxShape.slice(1).reduce<number>((a, b) => a * b!, 1);
  const [first, second] = target;
  const keepsBatch = first === 'batch' || first === 0 || (first === -1 && second === features);
  if (target.length !== 2 || !keepsBatch || (second !== -1 && second !== features)) {
    throw new Error(
      `Reshape ${node.name}: only flattening to [batch, -1] is supported, got [${target.join(',')}]`,
    );
  }
  c.set(node.outputs[0], flatten(c, node, x));
}

export const SHAPE_OPS: OpTable = {
  Constant: { domain: '', run: constantNode },
  Identity: { domain: '', run: identity },
  Shape: { domain: '', run: shape },
  Gather: { domain: '', run: gather },
  Unsqueeze: { domain: '', run: unsqueeze },
  Concat: { domain: '', run: concat },
  Flatten: { domain: '', run: flattenOp },
  Reshape: { domain: '', run: reshape },
};
