import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readDataset, sharedDatasetsDir, type Sample } from '../data/dataset.ts';
import type { ModelCard } from '../model-card.ts';
import { repoRoot } from '../paths.ts';
import type { Embedding } from './embedder.ts';
import type { ReferenceRows } from './train-heads.ts';

/** The base model's training split as pooled features, with what each row is. */
export interface ReferenceSet {
  dim: number;
  rows: number;
  x: Float32Array;
  label: string[];
  source: string[];
  /** 1 for an eardrum photo, 0 for a negative (not an eardrum). */
  eardrum: Uint8Array;
}

export function toReferenceRows(ref: ReferenceSet, labels: readonly string[]): ReferenceRows {
  return {
    x: ref.x,
    rows: ref.rows,
    dim: ref.dim,
    labelIndex: Int32Array.from(ref.label, (l, i) => (ref.eardrum[i] ? labels.indexOf(l) : -1)),
    eardrum: ref.eardrum,
  };
}

/** Appends rows (the clinic's photos) to a reference set. */
export function appendReference(
  ref: ReferenceSet,
  add: { x: Float32Array; rows: number; label: string[]; source: string },
): ReferenceSet {
  const x = new Float32Array((ref.rows + add.rows) * ref.dim);
  x.set(ref.x.subarray(0, ref.rows * ref.dim));
  x.set(add.x.subarray(0, add.rows * ref.dim), ref.rows * ref.dim);
  const eardrum = new Uint8Array(ref.rows + add.rows).fill(1);
  eardrum.set(ref.eardrum);
  return {
    dim: ref.dim,
    rows: ref.rows + add.rows,
    x,
    label: [...ref.label, ...add.label],
    source: [...ref.source, ...add.label.map(() => add.source)],
    eardrum,
  };
}

/**
 * The training photos of a model trained by `eardrum train` on the shared datasets: the otoscopy train split
 * (only the card's `training.sources` when it names them) and the not-eardrum train split.
 */
function trainingSamples(card: ModelCard): Sample[] {
  const datasets = sharedDatasetsDir();
  const sources = card.training['sources'] as string[] | undefined;
  const oto = readDataset(path.join(datasets, 'otoscopy'), 'train').filter(
    (s) => !sources || sources.includes(s.source ?? ''),
  );
  const neg = readDataset(path.join(datasets, 'not-eardrum'), 'train').map((s) => ({
    ...s,
    label: `neg:${s.label}`,
  }));
  return [...oto, ...neg];
}

/**
 * Stop-gap until model folders carry their own reference features (model/reference-features.ts, from the
 * model lead): embeds the base model's training photos from ../shared once and keeps them in .cache/.
 */
export async function computeReference(
  card: ModelCard,
  embed: (file: string) => Promise<Embedding>,
  onProgress: (done: number, total: number) => void = () => undefined,
): Promise<ReferenceSet> {
  const cacheDir = path.join(repoRoot, '.cache', 'adapt-reference');
  const key = `${card.id}-${card.version}`.replace(/[^A-Za-z0-9._-]/g, '_');
  const bin = path.join(cacheDir, `${key}.f32`);
  const meta = path.join(cacheDir, `${key}.json`);
  if (existsSync(bin) && existsSync(meta)) {
    const m = JSON.parse(readFileSync(meta, 'utf8')) as Omit<ReferenceSet, 'x' | 'eardrum'> & {
      eardrum: number[];
    };
    const raw = readFileSync(bin);
    return {
      ...m,
      eardrum: Uint8Array.from(m.eardrum),
      x: new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)),
    };
  }
  const samples = trainingSamples(card);
  if (!samples.length) throw new Error(`no training photos found under ${sharedDatasetsDir()}`);
  const rows: Float32Array[] = [];
  for (const s of samples) {
    rows.push((await embed(s.file)).features);
    onProgress(rows.length, samples.length);
  }
  const dim = rows[0]!.length;
  const x = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => x.set(r, i * dim));
  const ref: ReferenceSet = {
    dim,
    rows: rows.length,
    x,
    label: samples.map((s) => (s.label.startsWith('neg:') ? s.label.slice(4) : s.label)),
    source: samples.map((s) => s.source ?? ''),
    eardrum: Uint8Array.from(samples, (s) => (s.label.startsWith('neg:') ? 0 : 1)),
  };
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(bin, new Uint8Array(x.buffer));
  writeFileSync(
    meta,
    JSON.stringify({ dim, rows: ref.rows, label: ref.label, source: ref.source, eardrum: [...ref.eardrum] }),
  );
  return ref;
}
