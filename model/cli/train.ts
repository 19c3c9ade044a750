import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { selectBackend } from '../backend.ts';
import { readDataset, type Sample } from '../data/dataset.ts';
import { classificationReport } from '../eval/metrics.ts';
import { labelInfo } from '../labels.ts';
import { loadLayersModelFromDir } from '../model-io.ts';
import { saveLayersModel } from '../onnx/layers-model-files.ts';
import type { ModelCard } from '../model-card.ts';
import { DEFAULT_BACKBONE_DIR, importBackbone } from '../onnx/import-backbone.ts';
import { MOBILENETV2_100_INFO } from '../onnx/mobilenetv2-from-onnx.ts';
import { loadMobileNetV2035, type Backbone } from '../backbones.ts';
import { repoRoot, sharedDir } from '../paths.ts';
import type { PreprocessConfig } from '../preprocess.ts';
import { chooseGateThreshold, fitTemperature } from '../train/calibration.ts';
import { buildCombinedModel, OUTPUT_NAMES, withInputSize } from '../train/combined-model.ts';
import { extractFeatures, selectRows } from '../train/features.ts';
import { evaluateShippedModel } from '../train/final-evaluation.ts';
import { qualityThresholds } from '../train/quality-thresholds.ts';
import { headLogits, seededRandom, trainAveragedLinearHead, trainLinearHead } from '../train/softmax-head.ts';
import { TRAIN_CONFIG as C } from '../train/train-config.ts';
import { writeNotice } from '../train/notice.ts';
import { writeModelsPointer } from '../models-pointer.ts';
import { dataSection, gitRevision } from '../train/card-parts.ts';

const HELP = `usage: eardrum train [--backbone mobilenetv2-1.0|mobilenetv2-0.35] [--id ID] [--out DIR] [--no-eval]
                     [--sources SOURCE,...] [--min-images N]

Trains the eardrum classifier from ../shared/datasets/otoscopy and ../shared/datasets/not-eardrum:
the train split fits, the val split chooses regularisation, temperature and thresholds, and the test
split is only measured at the end. Writes resources/models/<id>/ (model.json, weights.bin,
model-card.json, NOTICE, evaluation/) and points resources/models/current.json at it.

--sources keeps only the otoscopy photos of the named source_dataset values (e.g.
basaran2019_vanyyu_turkey): a base model that has never seen the other otoscope, for the
leave-one-source-out check of \`eardrum adapt\`. --min-images (default ${C.minImagesPerLabel}) is the
smallest number of photos a label needs in the data used to be learned.`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      backbone: { type: 'string', default: 'mobilenetv2-1.0' },
      id: { type: 'string' },
      out: { type: 'string' },
      'no-eval': { type: 'boolean' },
      sources: { type: 'string' },
      'min-images': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const backboneName = values.backbone as keyof typeof C.backbones;
  if (!(backboneName in C.backbones)) {
    console.error(`unknown backbone ${values.backbone}; one of ${Object.keys(C.backbones).join(', ')}`);
    return 2;
  }
  const taps = C.backbones[backboneName].taps;
  const started = Date.now();
  const log = (msg: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0)}s] ${msg}`);
  const backend = await selectBackend('auto');
  log(`TensorFlow.js backend: ${backend}`);

  const datasets = path.join(sharedDir(), 'datasets');
  const otoDir = path.join(datasets, 'otoscopy');
  const negDir = path.join(datasets, 'not-eardrum');
  const allOto = readDataset(otoDir);
  const sources = values.sources
    ?.split(',')
    .map((v) => v.trim())
    .filter(Boolean);
  const knownSources = [...new Set(allOto.map((s) => s.source ?? ''))];
  const unknownSource = sources?.find((v) => !knownSources.includes(v));
  if (unknownSource) {
    console.error(`unknown source ${unknownSource}; the manifest has ${knownSources.join(', ')}`);
    return 2;
  }
  const oto = sources ? allOto.filter((s) => sources.includes(s.source ?? '')) : allOto;
  const minImages = values['min-images'] ? Number(values['min-images']) : C.minImagesPerLabel;
  if (!(Number.isInteger(minImages) && minImages >= 1)) {
    console.error(`--min-images must be a positive whole number (got ${values['min-images']})`);
    return 2;
  }
  const neg = readDataset(negDir);
  const counts = new Map<string, number>();
  oto.forEach((s) => counts.set(s.label, (counts.get(s.label) ?? 0) + 1));
  const labels = [...counts.entries()]
    .filter(([, n]) => n >= minImages)
    .map(([l]) => l)
    .sort((a, b) => (a === 'normal' ? -1 : b === 'normal' ? 1 : a.localeCompare(b)));
  const dropped = [...counts.entries()].filter(([, n]) => n < minImages);
  log(`labels: ${labels.join(', ')}; dropped: ${dropped.map(([l, n]) => `${l} (${n})`).join(', ')}`);

  let info: Omit<Backbone, 'model'>;
  let backbone: tf.LayersModel;
  if (backboneName === 'mobilenetv2-1.0') {
    if (!existsSync(path.join(DEFAULT_BACKBONE_DIR, 'model.json'))) {
      log('importing the MobileNetV2-1.0 backbone from ONNX');
      await importBackbone();
    }
    backbone = await loadLayersModelFromDir(DEFAULT_BACKBONE_DIR);
    info = MOBILENETV2_100_INFO;
  } else {
    const { model, ...rest } = await loadMobileNetV2035();
    backbone = model;
    info = rest;
  }
  const extractor = tf.model({
    inputs: backbone.inputs,
    outputs: taps.map((t) => backbone.getLayer(t).output as tf.SymbolicTensor),
  });
  const cfg: PreprocessConfig = {
    ...C.preprocessing,
    mean: info.mean,
    std: info.std,
  };

  const rand = seededRandom(C.seed);
  const trainSet: Sample[] = [
    ...oto.filter((s) => s.split === 'train'),
    ...neg.filter((s) => s.split === 'train').map((s) => ({ ...s, label: `neg:${s.label}` })),
  ];
  const valSet: Sample[] = [
    ...oto.filter((s) => s.split === 'val'),
    ...neg.filter((s) => s.split === 'val').map((s) => ({ ...s, label: `neg:${s.label}` })),
  ];
  const trainF = await extractFeatures(extractor, trainSet, cfg, C.preprocessing.workSize, {
    views: C.gateAugmentedViews,
    augment: () => true,
    rand,
    label: 'train features',
  });
  const valF = await extractFeatures(extractor, valSet, cfg, C.preprocessing.workSize, {
    views: 0,
    augment: () => false,
    rand,
    label: 'val features',
  });
  log(`features: ${trainF.rows} train rows, ${valF.rows} val rows, ${trainF.dim} dims`);

  // Class head: clean views of labelled eardrums (augmented views lowered validation accuracy for this head).
  const labelOf = (set: Sample[], f: typeof trainF, r: number) => set[f.sample[r]!]!.label;
  const trClass = selectRows(
    trainF,
    (r) => !trainF.augmented[r] && labels.includes(labelOf(trainSet, trainF, r)),
  );
  const vaClass = selectRows(valF, (r) => labels.includes(labelOf(valSet, valF, r)));
  const yTr = Int32Array.from(trClass.rows.map((r) => labels.indexOf(labelOf(trainSet, trainF, r))));
  const yVa = vaClass.rows.map((r) => labels.indexOf(labelOf(valSet, valF, r)));
  const perClass = labels.map((_, k) => yTr.filter((v) => v === k).length);
  const classWeights = perClass.map((n) => Math.sqrt(yTr.length / Math.max(1, n)));
  let best: {
    l2: number;
    macroF1: number;
    accuracy: number;
    head: ReturnType<typeof trainAveragedLinearHead>;
  } | null = null;
  const selection: { l2: number; accuracy: number; macroF1: number }[] = [];
  for (const l2 of C.classHead.l2Grid) {
    const head = trainAveragedLinearHead(
      trClass.x,
      trClass.rows.length,
      trainF.dim,
      yTr,
      labels.length,
      { ...C.classHead, l2, classWeights, seed: C.seed },
      C.classHead.members,
    );
    const logits = headLogits(head, vaClass.x, vaClass.rows.length);
    const pred = yVa.map((_, i) => {
      const row = logits.subarray(i * labels.length, (i + 1) * labels.length);
      return labels[row.indexOf(Math.max(...row))]!;
    });
    const rep = classificationReport(
      yVa.map((k) => labels[k]!),
      pred,
      labels,
    );
    selection.push({ l2, accuracy: rep.accuracy, macroF1: rep.macroF1 });
    log(`class head l2=${l2}: val accuracy ${rep.accuracy.toFixed(3)}, macro-F1 ${rep.macroF1.toFixed(3)}`);
    if (!best || rep.macroF1 > best.macroF1)
      best = { l2, macroF1: rep.macroF1, accuracy: rep.accuracy, head };
  }
  const classHead = best!.head;
  const temperature = fitTemperature(
    headLogits(classHead, vaClass.x, vaClass.rows.length),
    labels.length,
    yVa,
  );
  log(`chose l2=${best!.l2}; temperature ${temperature.toFixed(3)}`);

  // Gate: every eardrum (all labels, clean and augmented views) against every negative.
  const isNeg = (set: Sample[], f: typeof trainF, r: number) => labelOf(set, f, r).startsWith('neg:');
  const trGate = selectRows(trainF, () => true);
  const yGate = Int32Array.from(trGate.rows.map((r) => (isNeg(trainSet, trainF, r) ? 0 : 1)));
  const nPos = yGate.filter((v) => v === 1).length;
  const gate2 = trainLinearHead(trGate.x, trGate.rows.length, trainF.dim, yGate, 2, {
    ...C.gateHead,
    classWeights: [yGate.length / (2 * (yGate.length - nPos)), yGate.length / (2 * nPos)],
    seed: C.seed + 1,
  });
  const d = trainF.dim;
  const gateKernel = new Float32Array(d);
  for (let j = 0; j < d; j++) gateKernel[j] = gate2.kernel[j * 2 + 1]! - gate2.kernel[j * 2]!;
  const gateBias = gate2.bias[1]! - gate2.bias[0]!;
  const gateProb = (x: Float32Array) => {
    let z = gateBias;
    for (let j = 0; j < d; j++) z += x[j]! * gateKernel[j]!;
    return 1 / (1 + Math.exp(-z));
  };
  const valGate = Array.from({ length: valF.rows }, (_, r) => ({
    neg: isNeg(valSet, valF, r),
    p: gateProb(valF.x.subarray(r * d, (r + 1) * d)),
  }));
  const eardrumThreshold = chooseGateThreshold(
    valGate.filter((v) => !v.neg).map((v) => v.p),
    C.maxEardrumRejection,
  );
  const valNegRejected =
    valGate.filter((v) => v.neg && v.p < eardrumThreshold).length / valGate.filter((v) => v.neg).length;
  log(
    `gate threshold ${eardrumThreshold.toFixed(3)}: rejects ${(100 * valNegRejected).toFixed(1)}% of val negatives`,
  );

  const eardrumQuality = trainF.quality.filter((_, r) => !trainF.augmented[r] && !isNeg(trainSet, trainF, r));
  const quality = qualityThresholds(eardrumQuality, C.qualityQuantile);
  log(`quality floors: ${JSON.stringify(quality)}`);

  const combined = await withInputSize(
    buildCombinedModel(backbone, taps, classHead, { kernel: gateKernel, bias: gateBias }),
    cfg.size,
  );
  const id =
    values.id ??
    `eardrum-${info.id.replace(/[^a-z0-9]+/gi, '').toLowerCase()}-${new Date().toISOString().slice(0, 10).replace(/-/g, '')}`;
  const modelsDir = values.out ?? path.join(repoRoot, 'resources/models');
  const dir = path.join(modelsDir, id);
  await rm(dir, { recursive: true, force: true });
  await saveLayersModel(combined, dir);

  const card: ModelCard = {
    id,
    version: '1.0.0',
    name: `Eardrum Workstation otoscopy classifier (${info.id}, multi-scale linear head)`,
    created: new Date().toISOString(),
    gitRevision: gitRevision(),
    intendedUse:
      'Decision support for clinicians reviewing otoscope photos: whether a photo shows an eardrum, the most likely finding and where the model looked. Not a diagnostic device; every result needs a clinician.',
    labels: labels.map(labelInfo),
    droppedLabels: dropped.map(([l, n]) => ({
      id: l,
      reason: `${n} images in the dataset: too few to learn or evaluate; the model never outputs it`,
    })),
    backbone: {
      id: info.id,
      origin: info.origin,
      licence: info.licence,
      featureShape: combined.outputs[taps.length - 1]!.shape.slice(1) as number[],
    },
    preprocessing: {
      ...cfg,
      workSize: C.preprocessing.workSize,
      notes:
        'Decode with EXIF orientation to RGB (longest side ≤ workSize); square crop around the lit field of view (the shorter side of its bounding box), bilinear resize to size×size, gray-world white balance over the lit area, circular mask, then (x − mean) / std.',
    },
    outputs: {
      featureMaps: taps,
      classLogits: OUTPUT_NAMES.classLogits,
      gateLogit: OUTPUT_NAMES.gateLogit,
      classKernelLayer: OUTPUT_NAMES.classKernelLayer,
    },
    calibration: { method: 'temperature scaling on the val split', temperature },
    thresholds: { eardrum: eardrumThreshold, ...quality },
    training: {
      seed: C.seed,
      config: C,
      backend,
      trainRows: trainF.rows,
      ...(sources ? { sources, minImagesPerLabel: minImages } : {}),
      classHeadSelection: selection,
      chosenL2: best!.l2,
      valNegativesRejected: valNegRejected,
      durationSeconds: Math.round((Date.now() - started) / 1000),
    },
    metrics: {},
    data: dataSection(otoDir, negDir),
    limitations: [
      'Trained on two public sources (Turkey, Ohio) whose otoscopes differ; effusion is Ohio-only and aom/com are Turkey-only, so some labels can track the camera instead of the ear.',
      'No perforation or cholesteatoma classes; effusion mixes OME and AOM as published.',
      'The Turkey set has consecutive frames of the same exams; splits are leak-grouped, so metrics are lower than published random-split figures.',
      'Negatives do not include pinna photos, nasal endoscopy or ENT microscope images.',
    ],
  };
  await writeFile(path.join(dir, 'model-card.json'), JSON.stringify(card, null, 2));
  await writeNotice(dir, card);
  await writeModelsPointer(modelsDir, id);
  log(`saved ${dir}`);

  if (!values['no-eval']) {
    const metrics = await evaluateShippedModel(dir, otoDir, negDir, log);
    card.metrics = metrics;
    await writeFile(path.join(dir, 'model-card.json'), JSON.stringify(card, null, 2));
  }
  log(`done in ${((Date.now() - started) / 60000).toFixed(1)} min`);
  return 0;
}
