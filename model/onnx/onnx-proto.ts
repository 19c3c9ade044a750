/**
 * Minimal decoder for ONNX model files.
 *
 * Only the subset of onnx.proto (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto, proto2 syntax)
 * needed to read a model's graph, initializers and tensor types is declared here. Field numbers are the
 * upstream ones; unknown fields (training info, functions, sparse tensors, ...) are skipped by protobufjs.
 */
import { readFile } from 'node:fs/promises';
import protobuf from 'protobufjs';

const ONNX_PROTO_SUBSET = `
syntax = "proto2";
package onnx;

message AttributeProto {
  enum AttributeType {
    UNDEFINED = 0; FLOAT = 1; INT = 2; STRING = 3; TENSOR = 4; GRAPH = 5; SPARSE_TENSOR = 11; TYPE_PROTO = 13;
    FLOATS = 6; INTS = 7; STRINGS = 8; TENSORS = 9; GRAPHS = 10; SPARSE_TENSORS = 12; TYPE_PROTOS = 14;
  }
  optional string name = 1;
  optional string ref_attr_name = 21;
  optional string doc_string = 13;
  optional AttributeType type = 20;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  optional TensorProto t = 5;
  optional GraphProto g = 6;
  repeated float floats = 7;
  repeated int64 ints = 8;
  repeated bytes strings = 9;
  repeated TensorProto tensors = 10;
  repeated GraphProto graphs = 11;
}

message ValueInfoProto {
  optional string name = 1;
  optional TypeProto type = 2;
  optional string doc_string = 3;
}

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  optional string domain = 7;
  repeated AttributeProto attribute = 5;
  optional string doc_string = 6;
}

message OperatorSetIdProto {
  optional string domain = 1;
  optional int64 version = 2;
}

message ModelProto {
  optional int64 ir_version = 1;
  repeated OperatorSetIdProto opset_import = 8;
  optional string producer_name = 2;
  optional string producer_version = 3;
  optional string domain = 4;
  optional int64 model_version = 5;
  optional string doc_string = 6;
  optional GraphProto graph = 7;
}

message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  optional string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
  repeated ValueInfoProto value_info = 13;
}

message TensorProto {
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  repeated float float_data = 4 [packed = true];
  repeated int32 int32_data = 5 [packed = true];
  repeated bytes string_data = 6;
  repeated int64 int64_data = 7 [packed = true];
  optional string name = 8;
  optional string doc_string = 12;
  optional bytes raw_data = 9;
  optional int32 data_location = 14;
  repeated double double_data = 10 [packed = true];
  repeated uint64 uint64_data = 11 [packed = true];
}

message TensorShapeProto {
  message Dimension {
    optional int64 dim_value = 1;
    optional string dim_param = 2;
    optional string denotation = 3;
  }
  repeated Dimension dim = 1;
}

message TypeProto {
  message Tensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  optional Tensor tensor_type = 1;
  optional string denotation = 6;
}
`;

/** TensorProto.DataType values this project reads. */
export const OnnxDataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
} as const;

export type OnnxAttributeValue = number | string | number[] | string[] | OnnxTensor;

export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: number;
  /** Values widened to numbers; int64 values beyond 2^53 are rejected. */
  data: Float32Array | Int32Array | Uint8Array | Int8Array | number[];
}

export interface OnnxNode {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: Map<string, OnnxAttributeValue>;
}

export interface OnnxValueInfo {
  name: string;
  elemType: number | undefined;
  /** Each dim is a number, a symbolic name, or undefined when unknown. */
  shape: (number | string | undefined)[] | undefined;
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: Map<string, OnnxTensor>;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  valueInfo: OnnxValueInfo[];
}

export interface OnnxModel {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  opsets: { domain: string; version: number }[];
  graph: OnnxGraph;
}

let modelType: protobuf.Type | undefined;

function getModelType(): protobuf.Type {
  modelType ??= protobuf.parse(ONNX_PROTO_SUBSET, { keepCase: true }).root.lookupType('onnx.ModelProto');
  return modelType;
}

/* The decoded message is a protobufjs object whose shape is described by the schema above. */
interface RawTensor {
  dims?: number[];
  data_type?: number;
  float_data?: number[];
  int32_data?: number[];
  int64_data?: number[];
  name?: string;
  raw_data?: Uint8Array;
  data_location?: number;
  double_data?: number[];
}
interface RawAttribute {
  name?: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: RawTensor;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
}
interface RawNode {
  input?: string[];
  output?: string[];
  name?: string;
  op_type?: string;
  domain?: string;
  attribute?: RawAttribute[];
}
interface RawValueInfo {
  name?: string;
  type?: {
    tensor_type?: {
      elem_type?: number;
      shape?: { dim?: { dim_value?: number; dim_param?: string }[] };
    };
  };
}
interface RawModel {
  ir_version?: number;
  producer_name?: string;
  producer_version?: string;
  opset_import?: { domain?: string; version?: number }[];
  graph?: {
    name?: string;
    node?: RawNode[];
    initializer?: RawTensor[];
    input?: RawValueInfo[];
    output?: RawValueInfo[];
    value_info?: RawValueInfo[];
  };
}

function safeInt(value: number, what: string): number {
  if (!Number.isSafeInteger(value)) throw new Error(`ONNX ${what}: integer ${value} is out of range`);
  return value;
}

function decodeTensor(raw: RawTensor): OnnxTensor {
  const name = raw.name ?? '';
  const dims = (raw.dims ?? []).map((d) => safeInt(d, `tensor ${name} dims`));
  const dataType = raw.data_type ?? 0;
  if (raw.data_location === 1) throw new Error(`ONNX tensor ${name}: external data is not supported`);
  const count = dims.reduce((a, b) => a * b, 1);
  const rawBytes = raw.raw_data && raw.raw_data.length > 0 ? raw.raw_data : undefined;
  // raw_data is little-endian and not guaranteed to be aligned inside the file buffer: copy before viewing.
  const copy = rawBytes ? new Uint8Array(rawBytes).buffer : undefined;
  let data: OnnxTensor['data'];
  switch (dataType) {
    case OnnxDataType.FLOAT:
      data = copy ? new Float32Array(copy) : Float32Array.from(raw.float_data ?? []);
      break;
    case OnnxDataType.UINT8:
      data = copy ? new Uint8Array(copy) : Uint8Array.from(raw.int32_data ?? []);
      break;
    case OnnxDataType.INT8:
      data = copy ? new Int8Array(copy) : Int8Array.from(raw.int32_data ?? []);
      break;
    case OnnxDataType.INT32:
      data = copy ? new Int32Array(copy) : Int32Array.from(raw.int32_data ?? []);
      break;
    case OnnxDataType.INT64:
      if (copy) {
        data = Array.from(new BigInt64Array(copy), (v) => safeInt(Number(v), `tensor ${name} data`));
      } else {
        data = (raw.int64_data ?? []).map((v) => safeInt(v, `tensor ${name} data`));
      }
      break;
    default:
      throw new Error(`ONNX tensor ${name}: data type ${dataType} is not supported`);
  }
  if (data.length !== count) {
    throw new Error(`ONNX tensor ${name}: ${data.length} values for dims [${dims.join(',')}]`);
  }
  return { name, dims, dataType, data };
}

const textDecoder = new TextDecoder();

function decodeAttribute(raw: RawAttribute): OnnxAttributeValue {
  const name = raw.name ?? '';
  switch (raw.type) {
    case 1:
      return raw.f ?? 0;
    case 2:
      return safeInt(raw.i ?? 0, `attribute ${name}`);
    case 3:
      return textDecoder.decode(raw.s ?? new Uint8Array());
    case 4:
      if (!raw.t) throw new Error(`ONNX attribute ${name}: tensor missing`);
      return decodeTensor(raw.t);
    case 6:
      return [...(raw.floats ?? [])];
    case 7:
      return (raw.ints ?? []).map((v) => safeInt(v, `attribute ${name}`));
    case 8:
      return (raw.strings ?? []).map((s) => textDecoder.decode(s));
    default:
      throw new Error(`ONNX attribute ${name}: attribute type ${String(raw.type)} is not supported`);
  }
}

function decodeValueInfo(raw: RawValueInfo): OnnxValueInfo {
  const tensorType = raw.type?.tensor_type;
  return {
    name: raw.name ?? '',
    elemType: tensorType?.elem_type,
    shape: tensorType?.shape?.dim?.map((d) => d.dim_value ?? d.dim_param ?? undefined),
  };
}

/** Decodes the bytes of an .onnx file. Throws on malformed input or unsupported tensor storage. */
export function decodeOnnxModel(bytes: Uint8Array): OnnxModel {
  const type = getModelType();
  let message: protobuf.Message;
  try {
    message = type.decode(bytes);
  } catch (error) {
    throw new Error(`Not a readable ONNX model: ${(error as Error).message}`);
  }
  const raw = type.toObject(message, { longs: Number, bytes: Uint8Array, defaults: false }) as RawModel;
  const graph = raw.graph;
  if (!graph || !graph.node || graph.node.length === 0) throw new Error('ONNX model has no graph nodes');
  const initializers = new Map<string, OnnxTensor>();
  for (const t of graph.initializer ?? []) {
    const tensor = decodeTensor(t);
    initializers.set(tensor.name, tensor);
  }
  return {
    irVersion: raw.ir_version ?? 0,
    producerName: raw.producer_name ?? '',
    producerVersion: raw.producer_version ?? '',
    opsets: (raw.opset_import ?? []).map((o) => ({ domain: o.domain ?? '', version: o.version ?? 0 })),
    graph: {
      name: graph.name ?? '',
      nodes: graph.node.map((n) => ({
        name: n.name ?? '',
        opType: n.op_type ?? '',
        domain: n.domain ?? '',
        inputs: [...(n.input ?? [])],
        outputs: [...(n.output ?? [])],
        attributes: new Map((n.attribute ?? []).map((a) => [a.name ?? '', decodeAttribute(a)])),
      })),
      initializers,
      inputs: (graph.input ?? []).map(decodeValueInfo),
      outputs: (graph.output ?? []).map(decodeValueInfo),
      valueInfo: (graph.value_info ?? []).map(decodeValueInfo),
    },
  };
}

export async function readOnnxModel(path: string): Promise<OnnxModel> {
  return decodeOnnxModel(await readFile(path));
}
