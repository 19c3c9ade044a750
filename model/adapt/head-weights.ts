import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ModelLoadError } from '../errors.ts';

/** A dense layer's weights: kernel [inputs x units] row-major, bias [units]. */
export interface DenseWeights {
  kernel: Float32Array;
  bias: Float32Array;
  inputs: number;
  units: number;
}

interface WeightEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string };
}

interface ModelJson {
  weightsManifest: { paths: string[]; weights: WeightEntry[] }[];
}

/** Where one weight lies in a weight group (the concatenation of the group's files). */
interface Located {
  group: number;
  offset: number;
  count: number;
  encoding: 'float32' | 'float16';
}

function locate(json: ModelJson, name: string, file: string): Located {
  for (let g = 0; g < json.weightsManifest.length; g++) {
    let offset = 0;
    for (const w of json.weightsManifest[g]!.weights) {
      const count = w.shape.reduce((a, b) => a * b, 1);
      const encoding = w.quantization?.dtype ?? w.dtype;
      const bytes =
        encoding === 'float16' || encoding === 'uint16' || encoding === 'int16'
          ? 2
          : encoding === 'uint8' || encoding === 'int8'
            ? 1
            : 4;
      if (w.name === name) {
        if (w.dtype !== 'float32' || (encoding !== 'float32' && encoding !== 'float16')) {
          throw new ModelLoadError(
            `${file}: weight ${name} is stored as ${encoding}; only float32 and float16 heads can be adapted`,
          );
        }
        return { group: g, offset, count, encoding };
      }
      offset += count * bytes;
    }
  }
  throw new ModelLoadError(`${file} has no weight named ${name}`);
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (mant / 1024);
  if (exp === 0x1f) return mant ? Number.NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + mant / 1024);
}

/** Round-to-nearest float32 → IEEE half bits (the values a head holds are far from the edge cases). */
export function floatToHalf(v: number): number {
  const f32 = new Float32Array([v]);
  const x = new Uint32Array(f32.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  const mant = x & 0x7fffff;
  if (((x >>> 23) & 0xff) === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  if (exp >= 0x1f) return sign | 0x7c00;
  if (exp <= 0) {
    if (exp < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - exp;
    let half = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (exp << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

/**
 * A model folder's weight files, read so that single layers can be read and replaced byte for byte: every
 * other weight stays exactly as the base model has it, whatever produced the folder.
 */
export class WeightFiles {
  private constructor(
    private readonly dir: string,
    readonly json: ModelJson & Record<string, unknown>,
    /** Per weight group, the bytes of its files joined. */
    private readonly groups: Buffer[],
    /** Per weight group, the size of each of its files. */
    private readonly sizes: number[][],
  ) {}

  static async read(dir: string): Promise<WeightFiles> {
    const file = path.join(dir, 'model.json');
    let json: ModelJson & Record<string, unknown>;
    try {
      json = JSON.parse(await readFile(file, 'utf8'));
    } catch (err) {
      throw new ModelLoadError(`cannot read ${file}: ${(err as Error).message}`);
    }
    if (!Array.isArray(json?.weightsManifest)) throw new ModelLoadError(`${file} has no weights manifest`);
    const groups: Buffer[] = [];
    const sizes: number[][] = [];
    for (const g of json.weightsManifest) {
      const parts: Buffer[] = [];
      for (const p of g.paths) {
        const f = path.join(dir, p);
        if (path.relative(dir, f).startsWith('..'))
          throw new ModelLoadError(`weight path escapes the model folder: ${p}`);
        try {
          parts.push(await readFile(f));
        } catch (err) {
          throw new ModelLoadError(`cannot read weights ${f}: ${(err as Error).message}`);
        }
      }
      groups.push(Buffer.concat(parts));
      sizes.push(parts.map((b) => b.length));
    }
    return new WeightFiles(dir, json, groups, sizes);
  }

  private readValues(name: string): Float32Array {
    const at = locate(this.json, name, path.join(this.dir, 'model.json'));
    const buf = this.groups[at.group]!;
    const out = new Float32Array(at.count);
    for (let i = 0; i < at.count; i++) {
      out[i] =
        at.encoding === 'float16'
          ? halfToFloat(buf.readUInt16LE(at.offset + 2 * i))
          : buf.readFloatLE(at.offset + 4 * i);
    }
    return out;
  }

  private writeValues(name: string, values: Float32Array): void {
    const at = locate(this.json, name, path.join(this.dir, 'model.json'));
    if (values.length !== at.count) {
      throw new Error(`weight ${name} holds ${at.count} values, got ${values.length}`);
    }
    const buf = this.groups[at.group]!;
    for (let i = 0; i < at.count; i++) {
      if (at.encoding === 'float16') buf.writeUInt16LE(floatToHalf(values[i]!), at.offset + 2 * i);
      else buf.writeFloatLE(values[i]!, at.offset + 4 * i);
    }
  }

  /** The weights of dense layer `layer` (`<layer>/kernel`, `<layer>/bias`). */
  dense(layer: string): DenseWeights {
    const entry = this.json.weightsManifest
      .flatMap((g) => g.weights)
      .find((w) => w.name === `${layer}/kernel`);
    if (!entry || entry.shape.length !== 2) {
      throw new ModelLoadError(
        `${path.join(this.dir, 'model.json')}: ${layer} is not a dense layer with a 2-D kernel`,
      );
    }
    const [inputs, units] = entry.shape as [number, number];
    const bias = this.readValues(`${layer}/bias`);
    if (bias.length !== units) throw new ModelLoadError(`${layer}: bias does not match the kernel`);
    return { kernel: this.readValues(`${layer}/kernel`), bias, inputs, units };
  }

  setDense(layer: string, w: DenseWeights): void {
    this.writeValues(`${layer}/kernel`, w.kernel);
    this.writeValues(`${layer}/bias`, w.bias);
  }

  /** The weight files' names and contents (each group split back into its files, same sizes). */
  files(): { path: string; bytes: Buffer }[] {
    return this.json.weightsManifest.flatMap((g, gi) => {
      let at = 0;
      return g.paths.map((p, pi) => {
        const size = this.sizes[gi]![pi]!;
        const bytes = this.groups[gi]!.subarray(at, at + size);
        at += size;
        return { path: p, bytes };
      });
    });
  }
}
