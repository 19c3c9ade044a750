import * as tf from '@tensorflow/tfjs';
import type { DecodedImage } from './image-decode.ts';
import { circleMask, findFieldOfView, type Box } from './field-of-view.ts';

/** How a picture becomes the network input. Stored in the model card so inference matches training. */
export interface PreprocessConfig {
  size: number;
  /** `fov-circle`: square crop around the lit field of view, masked to a circle. `squash`: plain resize. */
  framing: 'fov-circle' | 'center-square' | 'squash';
  /** Gray-world white balance over the field of view, against otoscope colour casts. */
  whiteBalance: 'none' | 'grayworld';
  /** Per-channel normalisation after scaling to 0-255: (x - mean) / std. */
  mean: [number, number, number];
  std: [number, number, number];
}

/** Random changes applied during training to mimic other otoscopes, light sources and framings. */
export interface Augmentation {
  zoom: number; // side multiplier of the crop box
  shiftX: number; // fraction of the side
  shiftY: number;
  rotation: number; // radians
  flip: boolean;
  gains: [number, number, number]; // white-balance / colour cast
  exposure: number; // multiplies brightness
  gamma: number;
  saturation: number;
}

const masks = new Map<number, tf.Tensor3D>();
function maskTensor(size: number): tf.Tensor3D {
  let m = masks.get(size);
  if (!m) {
    m = tf.keep(tf.tensor3d(circleMask(size), [size, size, 1]));
    masks.set(size, m);
  }
  return m;
}

export function cropBox(img: DecodedImage, framing: PreprocessConfig['framing']): Box {
  if (framing === 'fov-circle') return findFieldOfView(img.data, img.width, img.height);
  if (framing === 'center-square') {
    return { cx: img.width / 2, cy: img.height / 2, side: Math.min(img.width, img.height) };
  }
  return { cx: img.width / 2, cy: img.height / 2, side: Math.max(img.width, img.height) };
}

/**
 * Builds the normalised network input [size, size, 3] for one decoded picture. Also returns the
 * un-normalised view (0-255) that the heatmap overlay is drawn on, so the clinician sees what the model saw.
 */
export function toNetworkInput(
  img: DecodedImage,
  cfg: PreprocessConfig,
  aug?: Augmentation,
  box: Box = cropBox(img, cfg.framing),
): { input: tf.Tensor3D; view: tf.Tensor3D } {
  return tf.tidy(() => {
    const { width: w, height: h } = img;
    const pixels = tf.tensor4d(img.data, [1, h, w, 3], 'int32').toFloat();
    let side = box.side * (aug?.zoom ?? 1);
    const cx = box.cx + (aug?.shiftX ?? 0) * side;
    const cy = box.cy + (aug?.shiftY ?? 0) * side;
    let bw = side;
    let bh = side;
    if (cfg.framing === 'squash') {
      bw = w * (aug?.zoom ?? 1);
      bh = h * (aug?.zoom ?? 1);
      side = Math.max(bw, bh);
    }
    // Normalised [y1, x1, y2, x2]; parts outside the picture come out black, like an otoscope's border.
    const boxes = tf.tensor2d([[(cy - bh / 2) / h, (cx - bw / 2) / w, (cy + bh / 2) / h, (cx + bw / 2) / w]]);
    let x = tf.image.cropAndResize(pixels, boxes, [0], [cfg.size, cfg.size], 'bilinear', 0) as tf.Tensor4D;
    if (aug?.flip) x = tf.image.flipLeftRight(x);
    if (aug && aug.rotation !== 0) x = tf.image.rotateWithOffset(x, aug.rotation, 0);
    let img3 = x.squeeze([0]) as tf.Tensor3D;
    if (aug) img3 = augmentColour(img3, aug);
    const circle = cfg.framing === 'fov-circle' ? maskTensor(cfg.size) : null;
    if (cfg.whiteBalance === 'grayworld') img3 = grayWorld(img3, circle);
    if (circle) img3 = img3.mul(circle) as tf.Tensor3D;
    img3 = img3.clipByValue(0, 255) as tf.Tensor3D;
    const input = img3.sub(tf.tensor1d(cfg.mean)).div(tf.tensor1d(cfg.std)) as tf.Tensor3D;
    return { input, view: img3 };
  });
}

function augmentColour(x: tf.Tensor3D, aug: Augmentation): tf.Tensor3D {
  let y = x.mul(tf.tensor1d(aug.gains)).mul(aug.exposure).clipByValue(0, 255);
  if (aug.gamma !== 1) y = y.div(255).pow(aug.gamma).mul(255);
  if (aug.saturation !== 1) {
    const grey = y.mean(2, true);
    y = grey.add(y.sub(grey).mul(aug.saturation));
  }
  return y.clipByValue(0, 255) as tf.Tensor3D;
}

/** Scales each channel so the lit area's channel means are equal (removes the light source's cast). */
function grayWorld(x: tf.Tensor3D, mask: tf.Tensor3D | null): tf.Tensor3D {
  const weight = mask ?? tf.onesLike(x.slice([0, 0, 0], [-1, -1, 1]));
  const lit = x.mean(2, true).greater(15).toFloat().mul(weight);
  const count = lit.sum().add(1);
  const means = x.mul(lit).sum([0, 1]).div(count); // [3]
  const target = means.mean();
  const gains = target.div(means.add(1)).clipByValue(0.5, 2);
  return x.mul(gains) as tf.Tensor3D;
}

export function randomAugmentation(rand: () => number): Augmentation {
  const u = (a: number, b: number) => a + (b - a) * rand();
  return {
    zoom: u(0.8, 1.15),
    shiftX: u(-0.08, 0.08),
    shiftY: u(-0.08, 0.08),
    rotation: u(-Math.PI, Math.PI),
    flip: rand() < 0.5,
    gains: [u(0.75, 1.25), u(0.8, 1.2), u(0.75, 1.25)],
    exposure: u(0.7, 1.3),
    gamma: u(0.75, 1.35),
    saturation: u(0.7, 1.3),
  };
}
