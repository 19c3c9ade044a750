import * as tf from '@tensorflow/tfjs';
import type { LinearHead } from './softmax-head.ts';

export const OUTPUT_NAMES = {
  classLogits: 'class_logits',
  gateLogit: 'gate_logit',
  classKernelLayer: 'class_logits',
};

/**
 * The shipped network: backbone → its feature maps (the class activation map is computed from them)
 * → global average pooling (concatenated over taps) → a dense class head and a dense eardrum gate.
 * Outputs: [...feature maps, class logits, gate logit].
 */
export function buildCombinedModel(
  backbone: tf.LayersModel,
  taps: string[],
  classHead: LinearHead,
  gateHead: { kernel: Float32Array; bias: number },
): tf.LayersModel {
  const maps = taps.map((t) => backbone.getLayer(t).output as tf.SymbolicTensor);
  const pooled = maps.map(
    (m, i) => tf.layers.globalAveragePooling2d({ name: `pool_${i}` }).apply(m) as tf.SymbolicTensor,
  );
  const features =
    pooled.length > 1
      ? (tf.layers.concatenate({ name: 'pooled' }).apply(pooled) as tf.SymbolicTensor)
      : pooled[0]!;
  const cls = tf.layers.dense({ units: classHead.classes, name: OUTPUT_NAMES.classLogits });
  const gate = tf.layers.dense({ units: 1, name: OUTPUT_NAMES.gateLogit });
  const clsOut = cls.apply(features) as tf.SymbolicTensor;
  const gateOut = gate.apply(features) as tf.SymbolicTensor;
  cls.setWeights([
    tf.tensor2d(classHead.kernel, [classHead.features, classHead.classes]),
    tf.tensor1d(classHead.bias),
  ]);
  gate.setWeights([tf.tensor2d(gateHead.kernel, [classHead.features, 1]), tf.tensor1d([gateHead.bias])]);
  return tf.model({ inputs: backbone.inputs, outputs: [...maps, clsOut, gateOut], name: 'eardrum' });
}

/**
 * The same network for `size`×`size` inputs. The imported backbone is declared for 224×224; every layer
 * up to the pooling works at any size and no weight depends on it, so only the input declaration changes.
 */
export async function withInputSize(model: tf.LayersModel, size: number): Promise<tf.LayersModel> {
  const topology = model.toJSON(null, false) as {
    config: { layers: { class_name: string; config: { batch_input_shape?: (number | null)[] } }[] };
  };
  for (const layer of topology.config.layers)
    if (layer.class_name === 'InputLayer') layer.config.batch_input_shape = [null, size, size, 3];
  const resized = (await tf.models.modelFromJSON({
    modelTopology: topology as unknown as tf.io.ModelJSON['modelTopology'],
  })) as tf.LayersModel;
  resized.setWeights(model.getWeights());
  return resized;
}
