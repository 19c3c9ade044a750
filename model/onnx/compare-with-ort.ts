/**
 * Developer check of the converter against onnxruntime-node, which is deliberately not a dependency.
 * Install it outside the repo first, e.g.
 *   mkdir -p /tmp/ort && cd /tmp/ort && npm init -y && ONNXRUNTIME_NODE_INSTALL=skip npm i --ignore-scripts onnxruntime-node
 * then `tsx model/onnx/compare-with-ort.ts --ort /tmp/ort/node_modules/onnxruntime-node [--images 6]`.
 *
 * 1. Layer by layer: every quantized ONNX tensor is added as a graph output (appending a serialized
 *    ModelProto merges into the graph), each TF.js layer is fed ORT's own (dequantized) inputs, and its output,
 *    requantized with the ONNX output scale, must land within one int8 step of ORT's.
 * 2. End to end: cosine of the float feature map / logits against the int8 model on sample images.
 */
import { createRequire } from 'node:module';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import protobuf from 'protobufjs';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { decodeOnnxModel, OnnxDataType, type OnnxModel } from './onnx-proto';
import {
  convertMobileNetV2,
  MOBILENETV2_FEATURE_TENSOR,
  normalizeRgbForMobileNetV2,
} from './mobilenetv2-from-onnx';
import { DEFAULT_ONNX_PATH, SHARED_DIR } from './import-backbone';
import { useWasmBackend } from './wasm-backend';

interface OrtTensor {
  data: ArrayLike<number>;
  dims: readonly number[];
}
interface OrtModule {
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => OrtTensor;
  InferenceSession: {
    create(
      model: Uint8Array,
      options: object,
    ): Promise<{ run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>> }>;
  };
}

/** Serialized `ModelProto { graph { output: [...] } }` naming extra graph outputs. */
function extraOutputs(outputs: { name: string; elemType: number }[]): Uint8Array {
  const graph = protobuf.Writer.create();
  for (const { name, elemType } of outputs) {
    const tensorType = protobuf.Writer.create().uint32(8).int32(elemType).finish();
    const type = protobuf.Writer.create().uint32(10).bytes(tensorType).finish();
    const valueInfo = protobuf.Writer.create().uint32(10).string(name).uint32(18).bytes(type).finish();
    graph.uint32((12 << 3) | 2).bytes(valueInfo);
  }
  return protobuf.Writer.create()
    .uint32((7 << 3) | 2)
    .bytes(graph.finish())
    .finish();
}

function scalarOf(onnx: OnnxModel, name: string): number {
  return Number((onnx.graph.initializers.get(name)!.data as ArrayLike<number>)[0]);
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(na * nb);
}

async function nhwcInput(file: string): Promise<Float32Array> {
  const rgb = await sharp(file).removeAlpha().resize(224, 224, { fit: 'cover' }).raw().toBuffer();
  return normalizeRgbForMobileNetV2(rgb);
}

function toNchw(x: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  const hw = x.length / 3;
  for (let i = 0; i < hw; i++) for (let c = 0; c < 3; c++) out[c * hw + i] = x[i * 3 + c]!;
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { ort: { type: 'string' }, images: { type: 'string' } } });
  if (!values.ort) throw new Error('pass --ort <path to an installed onnxruntime-node package>');
  const ort = createRequire(import.meta.url)(path.resolve(values.ort)) as OrtModule;
  await useWasmBackend();
  const bytes = await readFile(DEFAULT_ONNX_PATH);
  const onnx = decodeOnnxModel(bytes);
  const { model } = convertMobileNetV2(onnx);

  // layer name -> [ONNX quantized output, scale, zero point]
  const quantOut = new Map<string, [string, number, number]>();
  const outputSlots: Record<string, [number, number]> = {
    QLinearConv: [6, 7],
    QLinearAdd: [6, 7],
    QLinearGlobalAveragePool: [3, 4],
  };
  for (const node of onnx.graph.nodes) {
    const slots = outputSlots[node.opType];
    const name = `onnx_${node.name.replace(/_quant$/, '').replace(/[^A-Za-z0-9_]/g, '_')}`;
    if (!slots || !model.layers.some((l) => l.name === name)) continue;
    quantOut.set(name, [
      node.outputs[0]!,
      scalarOf(onnx, node.inputs[slots[0]]!),
      scalarOf(onnx, node.inputs[slots[1]]!),
    ]);
  }
  const extra: { name: string; elemType: number }[] = [...quantOut.values()].map(([name]) => ({
    name,
    elemType: OnnxDataType.UINT8,
  }));
  extra.push({ name: MOBILENETV2_FEATURE_TENSOR, elemType: OnnxDataType.FLOAT });
  const augmented = new Uint8Array(bytes.byteLength + extraOutputs(extra).byteLength);
  augmented.set(bytes);
  augmented.set(extraOutputs(extra), bytes.byteLength);
  const session = await ort.InferenceSession.create(augmented, { intraOpNumThreads: 1 });

  const photoDir = path.join(SHARED_DIR, 'datasets/not-eardrum/photo');
  const otoDir = path.join(SHARED_DIR, 'datasets/otoscopy/normal');
  const count = Number(values.images ?? 6);
  const files = [
    ...(await readdir(photoDir)).slice(0, count).map((f) => path.join(photoDir, f)),
    ...(await readdir(otoDir)).slice(0, count).map((f) => path.join(otoDir, f)),
  ].filter((f) => /\.(jpe?g|png)$/i.test(f));

  const requant = (t: tf.Tensor, s: number, zp: number) =>
    tf.mul(tf.sub(tf.clipByValue(tf.add(tf.round(tf.div(t, s)), zp), 0, 255), zp), s);
  const inputName = model.inputs[0]!.name;
  let worstSteps = 0;
  const featureCos: number[] = [];
  const logitCos: number[] = [];
  let top1 = 0;
  for (const file of files) {
    const x = await nhwcInput(file);
    const result = await session.run({ input: new ort.Tensor('float32', toNchw(x), [1, 3, 224, 224]) });
    const ortValue = (name: string, s: number, zp: number): tf.Tensor => {
      const t = result[name]!;
      const real = tf.tensor(
        Float32Array.from(t.data, (v) => (v - zp) * s),
        [...t.dims],
      );
      return t.dims.length === 4 ? tf.transpose(real, [0, 2, 3, 1]) : real.reshape([t.dims[0]!, t.dims[1]!]);
    };
    tf.tidy(() => {
      const bySymbol = new Map<string, tf.Tensor>();
      bySymbol.set(
        inputName,
        requant(
          tf.tensor4d(x, [1, 224, 224, 3]),
          scalarOf(onnx, 'input_scale'),
          scalarOf(onnx, 'input_zero_point'),
        ),
      );
      for (const layer of model.layers) {
        const q = quantOut.get(layer.name);
        if (!q) continue;
        // The ONNX tensor is the output after the folded ReLU6, when there is one.
        const last = model.layers.find((l) => l.name === `${layer.name}_relu6`) ?? layer;
        bySymbol.set((last.output as tf.SymbolicTensor).name, ortValue(...q));
      }
      for (const layer of model.layers) {
        const q = quantOut.get(layer.name);
        if (!q) continue;
        // Feed ORT's values into this layer (through its ZeroPadding2D, if any) and into the ReLU6 after it.
        const inputs = ([] as tf.SymbolicTensor[]).concat(
          layer.input as tf.SymbolicTensor | tf.SymbolicTensor[],
        );
        const fed = inputs.map((s) => {
          const src = s.sourceLayer;
          if (src.getClassName() === 'ZeroPadding2D') {
            return src.apply(bySymbol.get((src.input as tf.SymbolicTensor).name)!) as tf.Tensor;
          }
          return bySymbol.get(s.name)!;
        });
        let y = layer.apply(fed.length === 1 ? fed[0]! : fed) as tf.Tensor;
        const relu = model.layers.find((l) => l.name === `${layer.name}_relu6`);
        if (relu) y = relu.apply(y) as tf.Tensor;
        const diff = tf.abs(tf.sub(requant(y, q[1], q[2]), ortValue(...q)));
        worstSteps = Math.max(worstSteps, diff.max().dataSync()[0]! / q[1]);
      }
    });
    const [features, logits] = model.predict(tf.tensor4d(x, [1, 224, 224, 3])) as tf.Tensor[];
    const ortFeatures = tf.transpose(
      tf.tensor4d(Float32Array.from(result[MOBILENETV2_FEATURE_TENSOR]!.data), [1, 1280, 7, 7]),
      [0, 2, 3, 1],
    );
    featureCos.push(cosine(features!.dataSync(), ortFeatures.dataSync()));
    const ortLogits = Float32Array.from(result.output!.data);
    logitCos.push(cosine(logits!.dataSync(), ortLogits));
    if (tf.argMax(logits!, 1).dataSync()[0] === ortLogits.indexOf(Math.max(...ortLogits))) top1++;
    tf.dispose([features!, logits!, ortFeatures]);
  }
  const stats = (a: number[]) =>
    `mean ${(a.reduce((p, q) => p + q, 0) / a.length).toFixed(4)}, min ${Math.min(...a).toFixed(4)}`;
  console.log(`images: ${files.length} (photos + normal otoscopy)`);
  console.log(
    `layer by layer (${quantOut.size} quantized outputs): worst difference ${worstSteps.toFixed(2)} int8 steps`,
  );
  console.log(
    `end to end, float TF.js vs int8 ORT: feature map cosine ${stats(featureCos)}; logits cosine ${stats(logitCos)}; top-1 agreement ${top1}/${files.length}`,
  );
  if (worstSteps > 1.01) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exitCode = 1;
});
