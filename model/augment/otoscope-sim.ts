import sharp from 'sharp';
import type { DecodedImage } from '../image-decode.ts';
import { findFieldOfView } from '../field-of-view.ts';

/**
 * A simulated otoscope: how another camera, light source and framing would have captured the same ear.
 * Training draws random ones so the network cannot tell the two training cameras apart by colour, exposure,
 * sharpness or framing; the stress test renders the test split through a fixed set of them.
 */
export interface OtoscopeProfile {
  /** Light colour: > 0 warmer (more red, less blue), < 0 cooler. About ±0.35 spans halogen to cold LED. */
  temperature: number;
  /** > 0 greener, < 0 more magenta (sensor and white-balance differences). */
  tint: number;
  /** Multiplies brightness. */
  exposure: number;
  /** Applied to 0..1 values: > 1 darkens mid-tones, < 1 lifts them. */
  gamma: number;
  /** 1 keeps colours, < 1 washes them out, > 1 deepens them. */
  saturation: number;
  /** Darkening towards the corners, 0 (none) to 1 (corners black). */
  vignette: number;
  /** Gaussian sensor noise, standard deviation on the 0..255 scale. */
  noise: number;
  /** Gaussian blur sigma in pixels of the working image (0 = none): focus and optics. */
  blur: number;
  /** Re-encode as JPEG at this quality (0 = no re-encoding). */
  jpegQuality: number;
  /** Keep a rectangle of the picture around the lit field: its side as a fraction of the field's side
   * (< 1 is a tight crop with no black border, as cameras that fill the frame with the eardrum give). */
  crop: null | { side: number; aspect: number; shiftX: number; shiftY: number };
  /** A circular aperture (black outside), as otoscopes that show a round field give. Radius as a fraction
   * of the shorter side, centre offset as a fraction of the size. */
  aperture: null | { radius: number; shiftX: number; shiftY: number };
}

export const NEUTRAL_OTOSCOPE: OtoscopeProfile = {
  temperature: 0,
  tint: 0,
  exposure: 1,
  gamma: 1,
  saturation: 1,
  vignette: 0,
  noise: 0,
  blur: 0,
  jpegQuality: 0,
  crop: null,
  aperture: null,
};

/** A random otoscope for training views (`rand` in [0, 1)). */
export function randomOtoscope(rand: () => number): OtoscopeProfile {
  const u = (a: number, b: number) => a + (b - a) * rand();
  const maybe = (p: number) => rand() < p;
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  return {
    temperature: u(-0.35, 0.35),
    tint: u(-0.2, 0.2),
    exposure: Math.exp(gauss() * 0.25),
    gamma: Math.exp(u(-0.35, 0.35)),
    saturation: u(0.6, 1.35),
    vignette: maybe(0.5) ? u(0, 0.7) : 0,
    noise: maybe(0.4) ? u(0, 8) : 0,
    blur: maybe(0.4) ? u(0.3, 2.2) : 0,
    jpegQuality: maybe(0.5) ? Math.round(u(30, 90)) : 0,
    crop: maybe(0.35)
      ? {
          side: u(0.55, 0.95),
          aspect: maybe(0.5) ? 1 : u(1.2, 1.5),
          shiftX: u(-0.1, 0.1),
          shiftY: u(-0.1, 0.1),
        }
      : null,
    aperture: maybe(0.35) ? { radius: u(0.35, 0.55), shiftX: u(-0.08, 0.08), shiftY: u(-0.08, 0.08) } : null,
  };
}

function clamp255(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

async function throughSharp(img: DecodedImage, op: (s: sharp.Sharp) => sharp.Sharp): Promise<DecodedImage> {
  const raw = { width: img.width, height: img.height, channels: 3 as const };
  const s = op(sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.length), { raw }));
  const { data, info } = await s.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return {
    ...img,
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    width: info.width,
    height: info.height,
  };
}

/** Crops to a rectangle around the lit field of view (never past the picture). */
function cropAroundField(img: DecodedImage, crop: NonNullable<OtoscopeProfile['crop']>): DecodedImage {
  const box = findFieldOfView(img.data, img.width, img.height);
  const h = Math.max(8, Math.min(img.height, Math.round(box.side * crop.side)));
  const w = Math.max(8, Math.min(img.width, Math.round(h * crop.aspect)));
  const x0 = Math.round(Math.min(img.width - w, Math.max(0, box.cx - w / 2 + crop.shiftX * box.side)));
  const y0 = Math.round(Math.min(img.height - h, Math.max(0, box.cy - h / 2 + crop.shiftY * box.side)));
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    const from = ((y0 + y) * img.width + x0) * 3;
    data.set(img.data.subarray(from, from + w * 3), y * w * 3);
  }
  return { ...img, data, width: w, height: h };
}

/**
 * The same picture as `profile`'s otoscope would have taken it. Deterministic for a given profile and
 * `noiseSeed` (sensor noise is drawn from it), so stress-test renders are reproducible.
 */
export async function simulateOtoscope(
  img: DecodedImage,
  profile: OtoscopeProfile,
  noiseRand: () => number = Math.random,
): Promise<DecodedImage> {
  let out = img;
  if (profile.crop) out = cropAroundField(out, profile.crop);
  if (profile.blur > 0.3) out = await throughSharp(out, (s) => s.blur(profile.blur));

  const { width: w, height: h } = out;
  const data = new Uint8Array(out.data);
  const gains = [
    Math.exp(profile.temperature - profile.tint * 0.5),
    Math.exp(profile.tint),
    Math.exp(-profile.temperature - profile.tint * 0.5),
  ];
  const lut: Float32Array[] = gains.map((g) => {
    const t = new Float32Array(256);
    for (let v = 0; v < 256; v++)
      t[v] = 255 * Math.pow(Math.min(1, (v / 255) * g * profile.exposure), profile.gamma);
    return t;
  });
  const cx = w / 2 + (profile.aperture?.shiftX ?? 0) * w;
  const cy = h / 2 + (profile.aperture?.shiftY ?? 0) * h;
  const r = (profile.aperture?.radius ?? 0) * Math.min(w, h);
  const corner = Math.hypot(w / 2, h / 2);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - noiseRand())) * Math.cos(2 * Math.PI * noiseRand());
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 3;
      let R = lut[0]![data[o]!]!;
      let G = lut[1]![data[o + 1]!]!;
      let B = lut[2]![data[o + 2]!]!;
      if (profile.saturation !== 1) {
        const grey = 0.299 * R + 0.587 * G + 0.114 * B;
        R = grey + (R - grey) * profile.saturation;
        G = grey + (G - grey) * profile.saturation;
        B = grey + (B - grey) * profile.saturation;
      }
      let k = 1;
      if (profile.vignette > 0) {
        const d = Math.hypot(x + 0.5 - w / 2, y + 0.5 - h / 2) / corner;
        k *= 1 - profile.vignette * d * d;
      }
      if (profile.aperture) {
        const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
        k *= Math.min(1, Math.max(0, (r - d) / 2));
      }
      const n = profile.noise > 0 ? gauss() * profile.noise : 0;
      data[o] = Math.round(clamp255(R * k + n));
      data[o + 1] = Math.round(clamp255(G * k + n));
      data[o + 2] = Math.round(clamp255(B * k + n));
    }
  }
  out = { ...out, data };
  if (profile.jpegQuality > 0) {
    const q = profile.jpegQuality;
    const jpeg = await sharp(Buffer.from(data.buffer, data.byteOffset, data.length), {
      raw: { width: w, height: h, channels: 3 },
    })
      .jpeg({ quality: q })
      .toBuffer();
    out = await throughSharp(out, () => sharp(jpeg));
  }
  return out;
}

/**
 * The stress test's otoscopes: fixed, named, and unlike either training camera in one way each. Changing
 * them changes the stress-test figures in the model card, so treat this list as part of the benchmark.
 */
export const STRESS_OTOSCOPES: { id: string; description: string; profile: OtoscopeProfile }[] = [
  {
    id: 'warm-halogen',
    description: 'warm halogen light, slightly dark, vignetted',
    profile: { ...NEUTRAL_OTOSCOPE, temperature: 0.3, exposure: 0.85, vignette: 0.5 },
  },
  {
    id: 'cold-led',
    description: 'cold blue-white LED, bright, less saturated',
    profile: { ...NEUTRAL_OTOSCOPE, temperature: -0.3, tint: 0.05, exposure: 1.2, saturation: 0.8 },
  },
  {
    id: 'magenta-sensor',
    description: 'magenta sensor tint with lifted mid-tones',
    profile: { ...NEUTRAL_OTOSCOPE, tint: -0.18, gamma: 0.8 },
  },
  {
    id: 'soft-focus',
    description: 'out of focus, compressed (JPEG 40)',
    profile: { ...NEUTRAL_OTOSCOPE, blur: 1.6, jpegQuality: 40 },
  },
  {
    id: 'dim-noisy',
    description: 'under-exposed with sensor noise',
    profile: { ...NEUTRAL_OTOSCOPE, exposure: 0.6, gamma: 1.15, noise: 6 },
  },
  {
    id: 'tight-frame',
    description: 'eardrum fills a 4:3 frame, no black border',
    profile: { ...NEUTRAL_OTOSCOPE, crop: { side: 0.7, aspect: 4 / 3, shiftX: 0, shiftY: 0 } },
  },
  {
    id: 'small-round',
    description: 'small round field, off centre, on black',
    profile: { ...NEUTRAL_OTOSCOPE, aperture: { radius: 0.38, shiftX: 0.06, shiftY: -0.04 } },
  },
];
