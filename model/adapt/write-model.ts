import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ModelCard } from '../model-card.ts';
import type { WeightFiles, DenseWeights } from './head-weights.ts';
import type { CrossValidation } from './cross-validate.ts';

/** Refuses to overwrite: an existing, non-empty output folder is an error (nothing is written). */
export function checkOutputFolder(outDir: string): string | null {
  if (!existsSync(outDir)) return null;
  try {
    if (readdirSync(outDir).length === 0) return null;
  } catch {
    return `${outDir} exists and is not a folder`;
  }
  return `${outDir} already exists and is not empty; choose a new folder`;
}

function pct(n: number, of: number): string {
  return of ? `${((100 * n) / of).toFixed(0)}%` : '—';
}

export function crossValidationMarkdown(card: ModelCard, cv: CrossValidation): string {
  const row = (name: string, photos: number, b: CrossValidation['before'], a: CrossValidation['after']) =>
    `| ${name} | ${photos} | ${b.right} (${pct(b.right, photos)}) | ${a.right} (${pct(a.right, photos)}) | ${b.rejected} | ${a.rejected} |`;
  return [
    `# ${card.id}: adaptation`,
    '',
    `Adapted from \`${card.adaptation?.base.id}\` on ${card.adaptation?.date.slice(0, 10)}.`,
    '',
    `Cross-validated on the ${cv.photos} adaptation photos (${cv.folds} folds: each photo scored by heads trained`,
    'without it). "Right" = called an eardrum and given the label in the manifest; "rejected" = called not an',
    'eardrum. These photos are few: read the figures as a rough estimate, not as a measured accuracy.',
    '',
    '| label | photos | right before | right after | rejected before | rejected after |',
    '|---|---|---|---|---|---|',
    ...cv.perLabel.map((l) => row(l.label, l.photos, l.before, l.after)),
    row('**all**', cv.photos, cv.before, cv.after),
    '',
  ].join('\n');
}

/**
 * Writes the adapted model folder: the base's network files with the class head and gate replaced (every
 * other weight byte for byte), the new card, NOTICE, and evaluation/adaptation.md. Everything goes to a
 * temporary sibling folder first and is renamed into place, so a failure leaves no half-written model.
 * `extra` writes further files into the folder before the rename (reference features).
 */
export async function writeAdaptedModel(opts: {
  baseDir: string;
  outDir: string;
  weights: WeightFiles;
  classLayer: string;
  gateLayer: string;
  heads: { classHead: DenseWeights; gate: DenseWeights };
  card: ModelCard;
  crossValidation: CrossValidation;
  extra?: (dir: string) => Promise<void>;
}): Promise<void> {
  const problem = checkOutputFolder(opts.outDir);
  if (problem) throw new Error(problem);
  const parent = path.dirname(path.resolve(opts.outDir));
  await mkdir(parent, { recursive: true });
  const tmp = path.join(parent, `.${path.basename(opts.outDir)}.partial-${randomBytes(4).toString('hex')}`);
  await mkdir(tmp);
  try {
    opts.weights.setDense(opts.classLayer, opts.heads.classHead);
    opts.weights.setDense(opts.gateLayer, opts.heads.gate);
    await copyFile(path.join(opts.baseDir, 'model.json'), path.join(tmp, 'model.json'));
    for (const f of opts.weights.files()) {
      await mkdir(path.dirname(path.join(tmp, f.path)), { recursive: true });
      await writeFile(path.join(tmp, f.path), f.bytes);
    }
    await writeFile(path.join(tmp, 'model-card.json'), JSON.stringify(opts.card, null, 2));
    let notice = '';
    try {
      notice = await readFile(path.join(opts.baseDir, 'NOTICE'), 'utf8');
    } catch {
      notice = `Base model ${opts.card.adaptation?.base.id}: see its own folder for provenance.\n`;
    }
    const counts = Object.entries(opts.card.adaptation?.photosPerLabel ?? {})
      .map(([l, n]) => `${l} ${n}`)
      .join(', ');
    await writeFile(
      path.join(tmp, 'NOTICE'),
      `${notice.trimEnd()}\n\nAdapted model ${opts.card.id}: class head and eardrum gate retrained on ${opts.card.adaptation?.base.id}'s\n` +
        `training features together with a clinic's own labelled photos (${counts}), which stay on this machine.\n`,
    );
    await mkdir(path.join(tmp, 'evaluation'));
    await writeFile(
      path.join(tmp, 'evaluation', 'adaptation.md'),
      crossValidationMarkdown(opts.card, opts.crossValidation),
    );
    await opts.extra?.(tmp);
    if (existsSync(opts.outDir)) await rm(opts.outDir, { recursive: true }); // empty, checked above
    await rename(tmp, opts.outDir);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  }
}
