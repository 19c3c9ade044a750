import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { selectBackend } from '../backend.ts';
import { EardrumClassifier } from '../classifier.ts';
import { readDataset, type Sample } from '../data/dataset.ts';
import { labelInfo } from '../labels.ts';
import type { ModelCard } from '../model-card.ts';
import { DEFAULT_ONNX_PATH } from '../onnx/import-backbone.ts';
import { MOBILENETV2_100_INFO } from '../onnx/mobilenetv2-from-onnx.ts';
import { checkParity } from '../onnx/parity.ts';
import { TRAINED_NETWORK_OUTPUTS, importTrainedNetwork } from '../onnx/trained-network.ts';
import { repoRoot, sharedDir } from '../paths.ts';
import { writeReferenceFeatures } from '../reference-features.ts';
import { COMMON_LIMITATIONS, INTENDED_USE, dataSection, gitRevision } from '../train/card-parts.ts';
import { evaluateShippedModel } from '../train/final-evaluation.ts';
import { calibrateNetwork } from '../train/finetune-calibrate.ts';
import { FINETUNE_CONFIG as C } from '../train/finetune-config.ts';
import { writeNotice } from '../train/notice.ts';
import { buildReferenceFeatures, fitNotSure } from '../train/not-sure-fit.ts';
import {
  SOUP_SCRIPT,
  checkPythonTrainer,
  runPythonScript,
  runPythonTrainer,
} from '../train/python-trainer.ts';
import { renderViews } from '../train/render-views.ts';
import { seededRandom } from '../train/softmax-head.ts';
import { writeModelsPointer } from '../models-pointer.ts';

const HELP = `usage: eardrum train [--id ID] [--out DIR] [--sources S1,S2] [--epochs N] [--views N]
                     [--workdir DIR] [--smoke] [--no-eval] [--method finetune|linear]
                     [--seeds N] [--trainer-args "ARGS"] [--from-run DIR]

Fine-tunes MobileNetV2-1.0 (ImageNet, from ../shared/models) on ../shared/datasets/otoscopy and
../shared/datasets/not-eardrum: renders every training photo through the app's preprocessing and random
simulated otoscopes, trains with PyTorch (/usr/bin/python3 model/trainer/train.py; Debian's python3-torch,
python3-torchvision, python3-onnx), imports the ONNX export into TF.js, holds it equal to PyTorch's outputs,
then fits temperature, gate threshold, quality floors and the "not sure" rule on the val split, and
measures the test split. Writes resources/models/<id>/ and points resources/models/current.json at it
(unless --out is given).

  --sources S1,S2  train on these eardrum sources only (leave-one-source-out experiments)
  --smoke          a few dozen photos and one short epoch: checks the whole chain in a few minutes
  --method linear  the previous method: linear heads on frozen ImageNet features (no PyTorch)
  --from-run DIR   skip rendering and fine-tuning: import the network that train.py/soup.py wrote to DIR
  --seeds N        fine-tune N times (seeds differ) and ship the average of their weights
  --trainer-args   extra options for train.py (experiments, e.g. "--adversary 0"); recorded in the card`;

const eardrumOf = (s: Sample) => ({ ...s, eardrum: true });
const negativeOf = (s: Sample) => ({
  ...s,
  label: `neg:${s.label}`,
  source: s.source ?? 'not-eardrum',
  eardrum: false,
});

function pick<T>(items: T[], n: number, rand: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, n);
}

/** `--method linear` hands the whole command line to the previous trainer (model/cli/train.ts). */
function linearArgs(argv: string[]): string[] | null {
  const i = argv.findIndex((a) => a === '--method' || a.startsWith('--method='));
  if (i < 0) return null;
  const value = argv[i]!.includes('=') ? argv[i]!.split('=')[1] : argv[i + 1];
  if (value !== 'linear') return null;
  return argv.filter((_, k) => k !== i && !(k === i + 1 && !argv[i]!.includes('=')));
}

export async function run(argv: string[]): Promise<number> {
  const linear = linearArgs(argv);
  if (linear) return (await import('./train.ts')).run(linear);
  const { values } = parseArgs({
    args: argv,
    options: {
      id: { type: 'string' },
      out: { type: 'string' },
      sources: { type: 'string' },
      epochs: { type: 'string' },
      views: { type: 'string' },
      workdir: { type: 'string' },
      smoke: { type: 'boolean' },
      'no-eval': { type: 'boolean' },
      method: { type: 'string' },
      'trainer-args': { type: 'string' },
      seeds: { type: 'string' },
      'from-run': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const missing = checkPythonTrainer();
  if (missing) {
    console.error(`eardrum train: ${missing}`);
    return 2;
  }
  const started = Date.now();
  const log = (msg: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0)}s] ${msg}`);
  log(`TensorFlow.js backend: ${await selectBackend('auto')}`);
  const smoke = values.smoke ?? false;
  const rand = seededRandom(C.seed);

  const datasets = path.join(sharedDir(), 'datasets');
  const otoDir = path.join(datasets, 'otoscopy');
  const negDir = path.join(datasets, 'not-eardrum');
  const oto = readDataset(otoDir);
  const neg = readDataset(negDir);
  const counts = new Map<string, number>();
  oto.forEach((s) => counts.set(s.label, (counts.get(s.label) ?? 0) + 1));
  const sources = values.sources?.split(',').filter(Boolean);
  const inSources = (s: Sample) => !sources || sources.includes(s.source ?? '');
  const labels = [...counts.entries()]
    .filter(([l, n]) => n >= C.minImagesPerLabel && oto.some((s) => s.label === l && inSources(s)))
    .map(([l]) => l)
    .sort((a, b) => (a === 'normal' ? -1 : b === 'normal' ? 1 : a.localeCompare(b)));
  const dropped = [...counts.entries()].filter(([l]) => !labels.includes(l));
  log(`labels: ${labels.join(', ')}${sources ? ` (sources ${sources.join(', ')})` : ''}`);

  const split = (rows: Sample[], name: string) => rows.filter((s) => s.split === name);
  let train = [
    ...split(oto, 'train')
      .filter((s) => labels.includes(s.label) && inSources(s))
      .map(eardrumOf),
  ];
  let trainNeg = split(neg, 'train').map(negativeOf);
  let val = split(oto, 'val').filter((s) => labels.includes(s.label) && inSources(s));
  let valNeg = split(neg, 'val');
  if (smoke) {
    train = pick(train, C.smoke.trainPhotos, rand);
    trainNeg = pick(trainNeg, C.smoke.trainPhotos / 4, rand);
    val = pick(val, C.smoke.valPhotos, rand);
    valNeg = pick(valNeg, C.smoke.valPhotos / 4, rand);
  }

  const workdir = path.resolve(
    values.workdir ?? path.join(repoRoot, '.cache/train', smoke ? 'smoke' : 'full'),
  );
  const viewsDir = path.join(workdir, 'views');
  const simulated = Number(values.views ?? (smoke ? C.smoke.simulatedViews : C.simulatedViews));
  const cfg = C.preprocessing;
  const viewsKey = JSON.stringify({
    simulated,
    seed: C.seed,
    size: cfg.size,
    n: train.length + trainNeg.length,
    smoke,
  });
  const keyFile = path.join(viewsDir, 'key.json');
  const fromRun = values['from-run'] ? path.resolve(values['from-run']) : null;
  if (fromRun) {
    log(`using the network trained in ${fromRun}`);
  } else if (!existsSync(keyFile) || (await readFile(keyFile, 'utf8')) !== viewsKey) {
    log(`rendering views (${simulated} simulated otoscopes per training photo) into ${viewsDir}`);
    await rm(viewsDir, { recursive: true, force: true });
    const viewRand = seededRandom(C.seed + 7);
    await renderViews([...train, ...trainNeg], cfg, cfg.workSize, viewsDir, 'train', {
      views: simulated,
      rand: viewRand,
    });
    await renderViews([...val, ...valNeg.map(negativeOf)], cfg, cfg.workSize, viewsDir, 'val', {
      views: 0,
      rand: viewRand,
    });
    await writeFile(keyFile, viewsKey);
  } else {
    log(`reusing the views in ${viewsDir}`);
  }

  const extraTrainerArgs = values['trainer-args']?.split(/\s+/).filter(Boolean) ?? [];
  const runDir = fromRun ?? path.join(workdir, values.id ? `run-${values.id}` : 'run');
  const epochs = Number(values.epochs ?? (smoke ? C.smoke.epochs : C.trainer.epochs));
  const seeds = fromRun ? 0 : Number(values.seeds ?? (smoke ? 1 : C.seeds));
  const seedRuns: string[] = [];
  for (let k = 0; k < seeds; k++) {
    const out = seeds > 1 ? `${runDir}-seed${k + 1}` : runDir;
    log(`fine-tuning${seeds > 1 ? ` (seed ${k + 1} of ${seeds})` : ''}`);
    await runPythonTrainer([
      '--views',
      viewsDir,
      '--onnx-backbone',
      DEFAULT_ONNX_PATH,
      '--out',
      out,
      '--labels',
      labels.join(','),
      '--epochs',
      String(epochs),
      '--batch',
      String(C.trainer.batch),
      '--lr',
      String(C.trainer.lr),
      '--adversary',
      String(C.trainer.adversary),
      '--adversary-labels',
      C.trainer.adversaryLabels.join(','),
      ...C.trainer.extraArgs,
      '--seed',
      String(C.seed + k),
      ...(sources ? ['--sources', sources.join(',')] : []),
      ...(smoke ? ['--steps-per-epoch', String(C.smoke.stepsPerEpoch)] : []),
      ...extraTrainerArgs,
    ]);
    seedRuns.push(out);
  }
  if (seeds > 1) {
    log(`averaging the ${seeds} runs' weights (model soup)`);
    await runPythonScript(SOUP_SCRIPT, ['--views', viewsDir, '--out', runDir, ...seedRuns]);
  }

  const id =
    values.id ??
    `eardrum-mnv2ft-${cfg.size}-${new Date().toISOString().slice(0, 10).replace(/-/g, '')}${smoke ? '-smoke' : ''}`;
  const modelsDir = path.resolve(values.out ?? path.join(repoRoot, 'resources/models'));
  const dir = path.join(modelsDir, id);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  (await importTrainedNetwork(path.join(runDir, 'network.onnx'), dir)).dispose();
  await copyFile(path.join(runDir, 'parity.json'), path.join(dir, 'parity.json'));
  const training = JSON.parse(await readFile(path.join(runDir, 'training.json'), 'utf8'));

  const card: ModelCard = {
    id,
    version: '2.0.0',
    name: `Eardrum Workstation otoscopy classifier (MobileNetV2-1.0 fine-tuned at ${cfg.size} px, camera-blind training)`,
    created: new Date().toISOString(),
    gitRevision: gitRevision(),
    intendedUse: INTENDED_USE,
    labels: labels.map(labelInfo),
    droppedLabels: dropped.map(([l, n]) => ({
      id: l,
      reason: sources?.length
        ? `not learned: absent from ${sources.join(', ')} or ${n} images`
        : `${n} images in the dataset: too few to learn or evaluate; the model never outputs it`,
    })),
    backbone: {
      id: 'mobilenetv2-1.0-finetuned',
      origin: `${MOBILENETV2_100_INFO.origin}; batch norm restored and the whole network fine-tuned by model/trainer/train.py (PyTorch ${training.torch}), exported as ONNX and imported by model/onnx/trained-network.ts`,
      licence: MOBILENETV2_100_INFO.licence,
      featureShape: [cfg.size / 32, cfg.size / 32, 1280],
    },
    preprocessing: {
      ...cfg,
      notes:
        'Decode with EXIF orientation to RGB (longest side ≤ workSize); square crop around the lit field of view (the shorter side of its bounding box), bilinear resize to size×size, gray-world white balance over the lit area, circular mask, then (x − mean) / std.',
    },
    outputs: {
      featureMaps: [TRAINED_NETWORK_OUTPUTS.featureMap],
      classLogits: TRAINED_NETWORK_OUTPUTS.classLogits,
      gateLogit: TRAINED_NETWORK_OUTPUTS.gateLogit,
      classKernelLayer: TRAINED_NETWORK_OUTPUTS.classLogits,
    },
    calibration: { method: 'temperature scaling on the val split', temperature: 1 },
    thresholds: { eardrum: 0.5, minBrightP95: 0, maxClipped: 1, minSharpness: 0, minSide: 1 },
    training: { config: C, trainerArgs: extraTrainerArgs, trainer: training, sources: sources ?? 'all' },
    metrics: {},
    data: dataSection(otoDir, negDir),
    limitations: COMMON_LIMITATIONS,
  };
  const cardFile = path.join(dir, 'model-card.json');
  await writeFile(cardFile, JSON.stringify(card, null, 2));

  const parity = await checkParity(dir, path.join(dir, 'parity.json'), datasets);
  log(
    `parity with PyTorch: class logits ${parity.classLogits.toExponential(1)}, gate ${parity.gateLogit.toExponential(1)}, pooled ${parity.pooled.toExponential(1)}`,
  );
  if (Math.max(parity.classLogits, parity.gateLogit, parity.pooled) > 1e-3) {
    console.error('eardrum train: the TF.js network differs from PyTorch by more than 1e-3; not shipping it');
    return 1;
  }

  let classifier = await EardrumClassifier.load(dir);
  const reference = await buildReferenceFeatures(classifier, [...train, ...trainNeg]);
  const calibration = await calibrateNetwork(
    classifier,
    {
      val,
      valNegatives: valNeg,
      trainEardrumQuality: reference.quality.filter((_, i) => reference.entries[i]!.eardrum),
    },
    C,
  );
  classifier.dispose();
  card.calibration.temperature = calibration.temperature;
  card.thresholds = { eardrum: calibration.eardrumThreshold, ...calibration.quality };
  card.training = { ...card.training, valNegativesRejected: calibration.valNegativesRejected };
  await writeReferenceFeatures(dir, reference);
  await writeFile(cardFile, JSON.stringify(card, null, 2));
  log(
    `temperature ${calibration.temperature.toFixed(3)}; gate threshold ${calibration.eardrumThreshold.toFixed(3)} rejects ${(100 * calibration.valNegativesRejected).toFixed(1)}% of val negatives`,
  );

  classifier = await EardrumClassifier.load(dir);
  card.notSure = await fitNotSure(classifier, reference, val, calibration.temperature);
  classifier.dispose();
  card.training = { ...card.training, durationSeconds: Math.round((Date.now() - started) / 1000) };
  await writeFile(cardFile, JSON.stringify(card, null, 2));
  await writeNotice(dir, card);
  log(
    `not sure below ${card.notSure.minConfidence.toFixed(3)} or unfamiliarity above ${card.notSure.maxUnfamiliarity.toFixed(3)}`,
  );
  if (!values.out && !smoke) {
    await writeModelsPointer(modelsDir, id);
  }
  log(`saved ${dir}`);

  if (!values['no-eval'] && !smoke) {
    card.metrics = await evaluateShippedModel(dir, otoDir, negDir, log);
    await writeFile(cardFile, JSON.stringify(card, null, 2));
  }
  log(`done in ${((Date.now() - started) / 60000).toFixed(1)} min`);
  return 0;
}
