import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';

/** One labelled photo of the clinic's otoscope. */
export interface AdaptPhoto {
  /** Absolute path. */
  file: string;
  /** As written in the manifest (for messages). */
  name: string;
  label: string;
  /** Line of manifest.csv (1 = the header). */
  line: number;
}

/** Fewest photos of a label that adaptation accepts (fewer cannot be cross-validated or trusted). */
export const MIN_PHOTOS_PER_LABEL = 3;

/** Everything wrong with an adaptation folder, one line each; nothing is written when this is thrown. */
export class AdaptInputError extends Error {
  override readonly name = 'AdaptInputError';
  constructor(readonly problems: string[]) {
    super(problems.length === 1 ? problems[0]! : `${problems.length} problems:\n${problems.join('\n')}`);
  }
}

/**
 * Reads `DIR/manifest.csv` (`file,label`, other columns ignored; the layout of the shared otoscopy set) and
 * checks it against the base model's labels: every file exists inside DIR, every label is one of `labels`,
 * and every label used has at least `minPerLabel` photos. Whether each photo decodes is checked later, when
 * it is embedded. Throws AdaptInputError listing every problem found.
 */
export function readAdaptManifest(
  dir: string,
  labels: readonly string[],
  minPerLabel = MIN_PHOTOS_PER_LABEL,
): AdaptPhoto[] {
  const root = path.resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new AdaptInputError([`${dir}: no such folder`]);
  }
  const manifest = path.join(root, 'manifest.csv');
  if (!existsSync(manifest)) {
    throw new AdaptInputError([`${manifest}: missing (it lists the photos: columns file,label)`]);
  }
  let rows: string[][];
  try {
    rows = parse(readFileSync(manifest), {
      bom: true,
      trim: true,
      skip_empty_lines: true,
      relax_column_count: true,
    }) as string[][];
  } catch (err) {
    throw new AdaptInputError([`${manifest}: not a readable CSV file (${(err as Error).message})`]);
  }
  const header = (rows[0] ?? []).map((h) => h.toLowerCase());
  const fileCol = header.indexOf('file');
  const labelCol = header.indexOf('label');
  if (fileCol < 0 || labelCol < 0) {
    throw new AdaptInputError([
      `${manifest}: the first line must name the columns file and label (found: ${header.join(',') || 'nothing'})`,
    ]);
  }
  const problems: string[] = [];
  const photos: AdaptPhoto[] = [];
  const seen = new Map<string, number>();
  const known = new Set(labels);
  rows.slice(1).forEach((row, i) => {
    const line = i + 2;
    const name = row[fileCol] ?? '';
    const label = row[labelCol] ?? '';
    const where = `manifest.csv line ${line}`;
    if (!name) {
      problems.push(`${where}: no file name`);
      return;
    }
    if (!label) {
      problems.push(`${where}: ${name}: no label`);
      return;
    }
    if (!known.has(label)) {
      problems.push(
        `${where}: ${name}: unknown label "${label}" (the base model's labels: ${labels.join(', ')})`,
      );
      return;
    }
    const file = path.resolve(root, name);
    const rel = path.relative(root, file);
    if (rel.startsWith('..') || path.isAbsolute(rel)) {
      problems.push(`${where}: ${name}: outside ${dir}`);
      return;
    }
    const earlier = seen.get(file);
    if (earlier !== undefined) {
      problems.push(`${where}: ${name}: listed twice (also on line ${earlier})`);
      return;
    }
    seen.set(file, line);
    let isFile = false;
    try {
      isFile = statSync(file).isFile();
    } catch {
      isFile = false;
    }
    if (!isFile) {
      problems.push(`${where}: ${name}: photo not found`);
      return;
    }
    photos.push({ file, name, label, line });
  });
  const counts = new Map<string, number>();
  for (const r of rows.slice(1)) {
    const label = r[labelCol] ?? '';
    if (known.has(label)) counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  for (const [label, n] of counts) {
    if (n < minPerLabel) {
      problems.push(
        `label "${label}": ${n} photo${n === 1 ? '' : 's'}; at least ${minPerLabel} are needed (add photos or remove the label)`,
      );
    }
  }
  if (!problems.length && !photos.length) problems.push(`${manifest}: lists no photos`);
  if (problems.length) throw new AdaptInputError(problems);
  return photos;
}
