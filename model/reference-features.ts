import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ModelLoadError } from './errors.ts';
import { float32ToFloat16Bits } from './onnx/layers-model-files.ts';

/**
 * A model folder's reference features: the pooled features (the heads' input) of the photos the model
 * learned from, in float16. The classifier measures how far a new photo is from them ("unfamiliar photo");
 * `eardrum adapt` retrains the heads on them together with a clinic's photos, so no label is forgotten.
 */
export interface ReferenceEntry {
  /** A label id of the card, or `neg:<kind>` for a picture that is not an eardrum. */
  label: string;
  /** Where the photo came from: a dataset source, or `clinic` for photos added by adaptation. */
  source: string;
  eardrum: boolean;
}

export interface ReferenceFeatures {
  dim: number;
  rows: number;
  /** Row-major [rows × dim]. */
  x: Float32Array;
  entries: ReferenceEntry[];
}

export const REFERENCE_JSON = 'reference-features.json';
export const REFERENCE_BIN = 'reference-features.bin';

const indexSchema = z.object({
  version: z.literal(1),
  dtype: z.literal('float16'),
  dim: z.number().int().positive(),
  rows: z.number().int().nonnegative(),
  entries: z.array(z.object({ label: z.string(), source: z.string(), eardrum: z.boolean() })),
});

/** IEEE half bits → float32 (subnormals, infinities and NaN included). */
export function float16BitsToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i]!;
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const mant = h & 0x3ff;
    out[i] =
      exp === 0
        ? sign * mant * 2 ** -24
        : exp === 0x1f
          ? mant
            ? NaN
            : sign * Infinity
          : sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  return out;
}

/** The folder's reference features, or null when it has none (models made before they existed). */
export async function readReferenceFeatures(dir: string): Promise<ReferenceFeatures | null> {
  const jsonFile = path.join(dir, REFERENCE_JSON);
  if (!existsSync(jsonFile)) return null;
  let index: z.infer<typeof indexSchema>;
  let bytes: Buffer;
  try {
    index = indexSchema.parse(JSON.parse(await readFile(jsonFile, 'utf8')));
    bytes = await readFile(path.join(dir, REFERENCE_BIN));
  } catch (err) {
    throw new ModelLoadError(`reference features in ${dir} cannot be read: ${(err as Error).message}`);
  }
  if (index.entries.length !== index.rows || bytes.length !== index.rows * index.dim * 2) {
    throw new ModelLoadError(
      `reference features in ${dir} do not match their index (${index.rows} × ${index.dim})`,
    );
  }
  const aligned = new Uint8Array(bytes.length);
  aligned.set(bytes);
  const x = float16BitsToFloat32(new Uint16Array(aligned.buffer));
  return { dim: index.dim, rows: index.rows, x, entries: index.entries };
}

export async function writeReferenceFeatures(dir: string, ref: ReferenceFeatures): Promise<void> {
  if (ref.x.length !== ref.rows * ref.dim || ref.entries.length !== ref.rows) {
    throw new RangeError(`reference features: ${ref.x.length} values for ${ref.rows} × ${ref.dim}`);
  }
  const bits = float32ToFloat16Bits(ref.x);
  const index = { version: 1, dtype: 'float16', dim: ref.dim, rows: ref.rows, entries: ref.entries };
  const bin = path.join(dir, REFERENCE_BIN);
  const json = path.join(dir, REFERENCE_JSON);
  await writeFile(`${bin}.tmp`, new Uint8Array(bits.buffer, bits.byteOffset, bits.byteLength));
  await writeFile(`${json}.tmp`, JSON.stringify(index));
  await rename(`${bin}.tmp`, bin);
  await rename(`${json}.tmp`, json);
}

/** The reference set plus more rows (e.g. a clinic's photos). */
export function appendReference(
  ref: ReferenceFeatures,
  x: Float32Array,
  entries: ReferenceEntry[],
): ReferenceFeatures {
  if (x.length !== entries.length * ref.dim)
    throw new RangeError('appended rows do not match the feature size');
  const all = new Float32Array(ref.x.length + x.length);
  all.set(ref.x);
  all.set(x, ref.x.length);
  return { dim: ref.dim, rows: ref.rows + entries.length, x: all, entries: [...ref.entries, ...entries] };
}
