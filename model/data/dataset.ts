import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { sharedDir } from '../paths.ts';

export interface Sample {
  /** Absolute path of the image. */
  file: string;
  label: string;
  split?: string;
  source?: string;
}

const IMAGE_EXT = /\.(jpe?g|png|bmp|tiff?|webp)$/i;

/**
 * Reads a folder laid out as `<label>/<image>`, using its `manifest.csv` (`file,label,...,split`) when
 * present. `split` filters by the manifest's split column (ignored when there is none).
 */
export function readDataset(dir: string, split?: string): Sample[] {
  const manifest = path.join(dir, 'manifest.csv');
  let samples: Sample[];
  if (existsSync(manifest)) {
    const rows = parse(readFileSync(manifest), {
      columns: true,
      skip_empty_lines: true,
      bom: true,
      trim: true,
    }) as Record<string, string>[];
    samples = rows
      .filter((r) => r.file)
      .map((r) => ({
        file: path.resolve(dir, r.file!),
        label: r.label || path.basename(path.dirname(r.file!)),
        split: r.split || undefined,
        source: r.source_dataset || undefined,
      }));
  } else {
    samples = [];
    for (const label of readdirSync(dir).sort()) {
      const sub = path.join(dir, label);
      if (label.startsWith('.') || !statSync(sub).isDirectory()) continue;
      for (const f of readdirSync(sub).sort()) {
        if (IMAGE_EXT.test(f)) samples.push({ file: path.join(sub, f), label });
      }
    }
  }
  if (split) {
    const hasSplit = samples.some((s) => s.split);
    if (hasSplit) samples = samples.filter((s) => s.split === split);
  }
  return samples;
}

/** The shared datasets folder (`../shared/datasets`, or `$EARDRUM_SHARED_DIR/datasets`). */
export function sharedDatasetsDir(): string {
  return path.join(sharedDir(), 'datasets');
}

/** Every JPEG or PNG below `dir`, sorted for a stable order. */
export function imageFilesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(jpe?g|png)$/i.test(e.name)) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}
