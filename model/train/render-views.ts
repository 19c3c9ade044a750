import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Sample } from '../data/dataset.ts';
import { decodeImage, type DecodedImage } from '../image-decode.ts';
import { ImageInputError } from '../errors.ts';
import { cropBox, type PreprocessConfig } from '../preprocess.ts';
import { networkInputFast } from '../preprocess-fast.ts';
import { randomOtoscope, simulateOtoscope } from '../augment/otoscope-sim.ts';
import { progressLine } from './progress.ts';

/** One rendered view: which sample, whether it is the clean view, and the sample's metadata. */
export interface ViewEntry {
  sample: number;
  view: number;
  file: string;
  label: string;
  source: string;
  split: string;
}

export interface ViewsIndex {
  /** Pixels per side; each view is `size * size * 3` bytes, RGB, row-major, in `<name>.bin`. */
  size: number;
  /** What the bytes are: the network input before `(x - mean) / std` (framed, balanced, masked). */
  pixels: 'preprocessed-uint8';
  mean: [number, number, number];
  std: [number, number, number];
  entries: ViewEntry[];
}

/**
 * The network input of `img` as bytes, through the shipped preprocessing (the same code that runs at
 * inference), before normalisation. `jitter` moves and scales the field-of-view square for training views.
 */
export function preprocessedBytes(
  img: DecodedImage,
  cfg: PreprocessConfig,
  jitter?: { zoom: number; shiftX: number; shiftY: number },
): Uint8Array {
  const box = cropBox(img, cfg.framing);
  if (jitter) {
    box.cx += jitter.shiftX * box.side;
    box.cy += jitter.shiftY * box.side;
    box.side *= jitter.zoom;
  }
  const { input } = networkInputFast(img, cfg, box);
  const out = new Uint8Array(input.length);
  for (let i = 0; i < input.length; i++) {
    const c = i % 3;
    const v = input[i]! * cfg.std[c]! + cfg.mean[c]!;
    out[i] = v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
  }
  return out;
}

/**
 * Writes `<outDir>/<name>.bin` (views back to back) and `<name>.json` (the index): for every sample one
 * clean view, then `views` views through random simulated otoscopes (when `views` > 0).
 */
export async function renderViews(
  samples: Sample[],
  cfg: PreprocessConfig,
  workSize: number,
  outDir: string,
  name: string,
  opts: { views: number; rand: () => number; label?: string },
): Promise<ViewsIndex> {
  await mkdir(outDir, { recursive: true });
  const stream = createWriteStream(path.join(outDir, `${name}.bin`));
  const entries: ViewEntry[] = [];
  const started = Date.now();
  let lastReport = 0;
  const u = (a: number, b: number) => a + (b - a) * opts.rand();
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    let img: DecodedImage;
    try {
      img = await decodeImage(s.file, workSize);
    } catch (err) {
      if (err instanceof ImageInputError) throw new Error(`training image ${s.file}: ${err.message}`);
      throw err;
    }
    for (let v = 0; v <= opts.views; v++) {
      let bytes: Uint8Array;
      if (v === 0) {
        bytes = preprocessedBytes(img, cfg);
      } else {
        const seen = await simulateOtoscope(img, randomOtoscope(opts.rand), opts.rand);
        bytes = preprocessedBytes(seen, cfg, {
          zoom: u(0.85, 1.15),
          shiftX: u(-0.06, 0.06),
          shiftY: u(-0.06, 0.06),
        });
      }
      if (!stream.write(bytes)) await new Promise<void>((r) => stream.once('drain', () => r()));
      entries.push({
        sample: i,
        view: v,
        file: s.file,
        label: s.label,
        source: s.source ?? '',
        split: s.split ?? '',
      });
    }
    if (Date.now() - lastReport > 5000 || i === samples.length - 1) {
      lastReport = Date.now();
      process.stderr.write(`\r${progressLine(opts.label ?? name, i + 1, samples.length, started)}   `);
    }
  }
  process.stderr.write('\n');
  await new Promise<void>((resolve, reject) =>
    stream.end((err?: Error | null) => (err ? reject(err) : resolve())),
  );
  const index: ViewsIndex = {
    size: cfg.size,
    pixels: 'preprocessed-uint8',
    mean: cfg.mean,
    std: cfg.std,
    entries,
  };
  await writeFile(path.join(outDir, `${name}.json`), JSON.stringify(index));
  return index;
}
