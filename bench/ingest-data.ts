import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { imageFilesUnder, sharedDatasetsDir } from '../model/data/dataset.ts';
import { fileURLToPath } from 'node:url';
import type Database from 'better-sqlite3';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const datasetsDir = sharedDatasetsDir();

/** Every dataset photo (eardrums and not-eardrums), sorted. */
export const datasetImages = (): string[] => imageFilesUnder(datasetsDir);

/**
 * A distinct copy of a JPEG: bytes after the end-of-image marker are ignored by decoders, so appending a few
 * random bytes gives a new SHA-256 (a new image to the engine) with the same picture.
 */
export function variant(bytes: Buffer): Buffer {
  return Buffer.concat([bytes, randomBytes(8)]);
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i]!;
}

const LABELS = ['normal', 'aom', 'effusion', 'com', 'earwax', 'otitis_externa', 'tympanosclerosis'];

/** One synthetic record: the images row (ids from 1, as a fresh table numbers them) and its diagnosis. */
export interface SyntheticRecord {
  image: {
    id: number;
    sha256: string;
    file_name: string;
    original_path: string;
    source: 'watch';
    stored_path: string;
    size_bytes: number;
    width: number;
    height: number;
    format: string;
    captured_at: string;
    captured_ms: number;
    capture_source: 'mtime';
    ingested_at: string;
    status: 'done' | 'failed';
    patient_id: string;
    ear: 'left' | 'right';
    patient_source: 'pattern';
    gate: string | null;
    model_label: string | null;
    confidence: number | null;
    reviewed_label: string | null;
    review_count: number;
    effective_label: string | null;
    abnormal: 0 | 1 | null;
    search_text: string;
  };
  diagnosis: { gate: string; label: string | null; probabilities: string } | null;
}

/**
 * The images columns the synthetic fills write, each with PostgreSQL's type for it (unnest() takes typed
 * arrays): one list for the SQLite fill (below) and the PostgreSQL one (ingest-pg.ts), checked against the
 * record's fields so that neither misses a column.
 */
export const SYNTHETIC_IMAGE_COLUMNS = {
  id: 'int',
  sha256: 'text',
  file_name: 'text',
  original_path: 'text',
  source: 'text',
  stored_path: 'text',
  size_bytes: 'bigint',
  width: 'int',
  height: 'int',
  format: 'text',
  captured_at: 'text',
  captured_ms: 'bigint',
  capture_source: 'text',
  ingested_at: 'text',
  status: 'text',
  patient_id: 'text',
  ear: 'text',
  patient_source: 'text',
  gate: 'text',
  model_label: 'text',
  confidence: 'float8',
  reviewed_label: 'text',
  review_count: 'int',
  effective_label: 'text',
  abnormal: 'int',
  search_text: 'text',
} as const satisfies Record<keyof SyntheticRecord['image'], string>;

export const syntheticImageColumns = Object.keys(
  SYNTHETIC_IMAGE_COLUMNS,
) as (keyof SyntheticRecord['image'])[];

/**
 * `n` synthetic records spread over a year (about a clinic's decade at 30/day), with diagnoses and some
 * reviews: the same rows for SQLite and PostgreSQL, so their figures compare.
 */
export function* syntheticRecords(n: number): Generator<SyntheticRecord> {
  const start = Date.UTC(2025, 0, 1);
  for (let i = 0; i < n; i++) {
    const captured = new Date(start + Math.floor((i / n) * 365 * 86_400_000)).toISOString();
    const patient = `P${(i * 7919) % Math.max(1, Math.floor(n / 4))}`;
    const failed = i % 97 === 0;
    const gate = failed ? null : i % 13 === 0 ? 'not_eardrum' : i % 17 === 0 ? 'ungradable' : 'eardrum';
    const label = gate === 'eardrum' ? LABELS[i % LABELS.length]! : null;
    const reviewed = label && i % 5 === 0 ? LABELS[(i + 1) % LABELS.length]! : null;
    const effective = reviewed ?? label;
    const name = `${patient}_${i % 2 ? 'L' : 'R'}_${captured.slice(0, 10).replace(/-/g, '')}_${i}.jpg`;
    yield {
      image: {
        id: i + 1,
        sha256: i.toString(16).padStart(64, '0'),
        file_name: name,
        original_path: `/inbox/${name}`,
        source: 'watch',
        stored_path: `originals/00/${i}.jpg`,
        size_bytes: 100000,
        width: 640,
        height: 480,
        format: 'jpeg',
        captured_at: captured,
        captured_ms: Date.parse(captured),
        capture_source: 'mtime',
        ingested_at: captured,
        status: failed ? 'failed' : 'done',
        patient_id: patient,
        ear: i % 2 ? 'left' : 'right',
        patient_source: 'pattern',
        gate,
        model_label: label,
        confidence: label ? 0.5 + (i % 50) / 100 : null,
        reviewed_label: reviewed,
        review_count: reviewed ? 1 : 0,
        effective_label: effective,
        abnormal: effective ? (effective === 'normal' || effective === 'earwax' ? 0 : 1) : null,
        search_text: `${name}\u0001${patient}\u0001${effective ?? ''}`.toLowerCase(),
      },
      diagnosis: gate
        ? {
            gate,
            label,
            probabilities: JSON.stringify(
              Object.fromEntries(LABELS.map((l) => [l, l === label ? 0.7 : 0.05])),
            ),
          }
        : null,
    };
  }
}

/** Fills a SQLite database with syntheticRecords(n), straight through SQL in one transaction. */
export function fillSynthetic(db: Database.Database, n: number): void {
  const cols = syntheticImageColumns;
  const insertImage = db.prepare(
    `INSERT INTO images (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`,
  );
  const insertPatient = db.prepare('INSERT OR IGNORE INTO patients (id, created_at) VALUES (?, ?)');
  const insertDiagnosis = db.prepare(
    `INSERT INTO diagnoses (image_id, model_id, model_version, backend, gate, eardrum_probability, label, probabilities,
       heatmap, decode_ms, inference_ms, total_ms, created_at) VALUES (?, 'bench', '1', 'wasm', ?, 0.9, ?, ?, NULL, 5, 20, 30, ?)`,
  );
  const setDiagnosis = db.prepare('UPDATE images SET diagnosis_id = ? WHERE id = ?');
  db.transaction(() => {
    for (const { image, diagnosis } of syntheticRecords(n)) {
      insertPatient.run(image.patient_id, image.captured_at);
      insertImage.run(...cols.map((k) => image[k]));
      if (diagnosis) {
        const d = insertDiagnosis.run(
          image.id,
          diagnosis.gate,
          diagnosis.label,
          diagnosis.probabilities,
          image.captured_at,
        );
        setDiagnosis.run(Number(d.lastInsertRowid), image.id);
      }
    }
  })();
}
