import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import { loadLayersModelFromDir } from './model-io.ts';
import { sharedDir } from './paths.ts';

/** An ImageNet backbone cut at its last feature map ([N, 7, 7, C]), with the input scaling it expects. */
export interface Backbone {
  id: string;
  model: tf.LayersModel;
  mean: [number, number, number];
  std: [number, number, number];
  origin: string;
  licence: string;
}

export async function loadMobileNetV2035(): Promise<Backbone> {
  const full = await loadLayersModelFromDir(path.join(sharedDir(), 'models/mobilenetv2-035-notop-tfjs'));
  // The folder holds Sequential[ MobileNetV2 functional model, GlobalAveragePooling ]; keep the feature map.
  const seq = full.layers[1] as tf.Sequential;
  const inner = seq.layers[0] as tf.LayersModel;
  return {
    id: 'mobilenetv2-0.35-224',
    model: inner,
    mean: [127, 127, 127],
    std: [127, 127, 127],
    origin:
      'Keras MobileNetV2(alpha=0.35, include_top=False) ImageNet weights as embedded in Teachable Machine image-model exports (e.g. github:00sky0213/teachable-machine-test@0534f8a2 my_model/)',
    licence: 'Apache-2.0 (TensorFlow / Keras Applications)',
  };
}
