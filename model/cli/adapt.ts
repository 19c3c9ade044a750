import path from 'node:path';
import { parseArgs } from 'node:util';
import { selectBackend } from '../backend.ts';
import { adaptBaseDir } from '../classifier.ts';
import { ModelLoadError } from '../errors.ts';
import { readModelCard } from '../model-card.ts';
import { adaptModel, type AdaptProgress } from '../adapt/adapt.ts';
import { AdaptInputError, MIN_PHOTOS_PER_LABEL, readAdaptManifest } from '../adapt/manifest.ts';
import { progressLine } from '../train/progress.ts';

const HELP = `usage: eardrum adapt --data DIR --out MODEL_DIR [--base MODEL_DIR] [--id ID]

Adapts a model to a clinic's otoscope from the clinic's own labelled photos, on this machine.
DIR holds the photos and a manifest.csv with at least the columns file,label (file relative to DIR;
other columns are ignored). Labels are ids of the base model (see its model-card.json); every label
used needs at least ${MIN_PHOTOS_PER_LABEL} photos. --base defaults to the model named by adaptFrom in
resources/models/current.json (general ImageNet features: they adapt to a new otoscope better than the
fine-tuned shipped network), else the shipped model.

Writes a complete model folder to MODEL_DIR (it must not exist or be empty): the base network with a
new class head and eardrum gate, trained on the base model's training features together with these
photos, and a card naming the base, the photos per label, the date and a cross-validated before/after
estimate on these photos. Use it with \`eardrum diagnose --model\`, \`eardrum eval --model\`, or pick it
in the app (Settings). Any problem with the photos is listed, one line each, and nothing is written.`;

const PHASES: Record<AdaptProgress['phase'], string> = {
  photos: 'reading photos',
  'cross-validation': 'cross-validating',
  training: 'training',
  writing: 'writing',
};

function bar(done: number, total: number, width = 24): string {
  const filled = total ? Math.round((width * done) / total) : width;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        data: { type: 'string' },
        out: { type: 'string' },
        base: { type: 'string' },
        id: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (!values.data || !values.out) {
    console.error(`--data and --out are both needed.\n\n${HELP}`);
    return 2;
  }
  if (values.id !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(values.id)) {
    console.error(`--id: letters, digits, dots, dashes and underscores only (got "${values.id}")`);
    return 2;
  }
  const baseDir = path.resolve(values.base ?? adaptBaseDir());
  let labels: string[];
  try {
    labels = (await readModelCard(baseDir)).labels.map((l) => l.id);
  } catch (err) {
    console.error(`base model: ${(err as Error).message}`);
    return 1;
  }
  const tty = process.stderr.isTTY;
  let lastLine = 0;
  const started = Date.now();
  try {
    const photos = readAdaptManifest(values.data, labels);
    const backend = await selectBackend('auto');
    const counts = labels
      .map((l) => [l, photos.filter((p) => p.label === l).length] as const)
      .filter(([, n]) => n > 0);
    console.error(
      `adapting ${path.basename(baseDir)} (${backend}) on ${photos.length} photos: ${counts.map(([l, n]) => `${l} ${n}`).join(', ')}`,
    );
    const outcome = await adaptModel({
      baseDir,
      outDir: path.resolve(values.out),
      photos,
      ...(values.id ? { id: values.id } : {}),
      onProgress: (p) => {
        const now = Date.now();
        if (!tty && now - lastLine < 5000 && p.done < p.total) return;
        lastLine = now;
        const text = `${bar(p.done, p.total)} ${progressLine(PHASES[p.phase], p.done, p.total, started, now)}`;
        process.stderr.write(tty ? `\r${text.padEnd(100)}` : `${text}\n`);
      },
    });
    if (tty) process.stderr.write('\n');
    const cv = outcome.crossValidation;
    const share = (n: number) => `${n}/${cv.photos} (${((100 * n) / cv.photos).toFixed(0)}%)`;
    console.log(`wrote ${outcome.dir} (model ${outcome.card.id}) in ${outcome.seconds.toFixed(0)} s`);
    console.log(
      `cross-validated on these photos (${cv.folds} folds): right ${share(cv.before.right)} → ${share(cv.after.right)}; ` +
        `called "not an eardrum" ${share(cv.before.rejected)} → ${share(cv.after.rejected)}`,
    );
    for (const l of cv.perLabel) {
      console.log(`  ${l.label}: right ${l.before.right}/${l.photos} → ${l.after.right}/${l.photos}`);
    }
    return 0;
  } catch (err) {
    if (tty) process.stderr.write('\n');
    if (err instanceof AdaptInputError) {
      for (const line of err.problems) console.error(`error: ${line}`);
      console.error('nothing was written.');
      return 1;
    }
    if (err instanceof ModelLoadError) {
      console.error(`base model: ${err.message}`);
      return 1;
    }
    throw err;
  }
}
