import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { EardrumClassifier, defaultModelDir } from '../classifier.ts';
import { readDataset } from '../data/dataset.ts';
import { sharedDir } from '../paths.ts';
import { writeReferenceFeatures } from '../reference-features.ts';
import { buildReferenceFeatures, fitNotSure } from '../train/not-sure-fit.ts';

const HELP = `usage: eardrum calibrate [--model DIR]

(Re)computes a model folder's reference features (the pooled features of the otoscopy and not-eardrum
train splits, float16) and its "not sure" rule (chosen on the val split), and writes both into the folder
and its card. \`npm run train\` does this for every new model; this command brings an older folder up to date.`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { model: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const dir = path.resolve(values.model ?? defaultModelDir());
  const datasets = path.join(sharedDir(), 'datasets');
  const oto = readDataset(path.join(datasets, 'otoscopy'));
  const neg = readDataset(path.join(datasets, 'not-eardrum'));
  const classifier = await EardrumClassifier.load(dir);
  try {
    const labels = classifier.labels.map((l) => l.id);
    // A model trained on some sources only (`eardrum train --sources`) keeps to them here too.
    const sources = classifier.card.training['sources'] as string[] | undefined;
    const fromSources = (s: { source?: string }) => !sources || sources.includes(s.source ?? '');
    const train = [
      ...oto
        .filter((s) => s.split === 'train' && labels.includes(s.label) && fromSources(s))
        .map((s) => ({ ...s, eardrum: true })),
      ...neg
        .filter((s) => s.split === 'train')
        .map((s) => ({ ...s, label: `neg:${s.label}`, source: s.source ?? 'not-eardrum', eardrum: false })),
    ];
    const reference = await buildReferenceFeatures(classifier, train);
    const cardFile = path.join(dir, 'model-card.json');
    const card = JSON.parse(await readFile(cardFile, 'utf8'));
    const notSure = await fitNotSure(
      classifier,
      reference,
      oto.filter((s) => s.split === 'val' && fromSources(s)),
      card.calibration.temperature,
    );
    await writeReferenceFeatures(dir, reference);
    card.notSure = notSure;
    await writeFile(cardFile, JSON.stringify(card, null, 2));
    const v = notSure.validation;
    console.log(
      `${reference.rows} reference rows × ${reference.dim}; not sure below ${notSure.minConfidence.toFixed(3)} ` +
        `or unfamiliarity above ${notSure.maxUnfamiliarity.toFixed(4)}: on val ${(100 * (v.coverage as number)).toFixed(1)}% ` +
        `confident, ${(100 * (v.confidentAccuracy as number)).toFixed(1)}% of them right`,
    );
    return 0;
  } finally {
    classifier.dispose();
  }
}
