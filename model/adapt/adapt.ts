import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { EardrumClassifier, type Embedding } from '../classifier.ts';
import { ImageInputError, ModelLoadError } from '../errors.ts';
import { readModelCard, type ModelCard } from '../model-card.ts';
import { repoRoot } from '../paths.ts';
import {
  appendReference,
  readReferenceFeatures,
  writeReferenceFeatures,
  type ReferenceFeatures,
} from '../reference-features.ts';
import { crossValidate, foldCount, type CrossValidation } from './cross-validate.ts';
import { WeightFiles } from './head-weights.ts';
import { AdaptInputError, type AdaptPhoto } from './manifest.ts';
import { toReferenceRows } from './reference.ts';
import {
  adaptSteps,
  DEFAULT_ADAPT_OPTIONS,
  trainAdaptedHeads,
  type AdaptOptions,
  type ClinicRows,
  type Pause,
} from './train-heads.ts';
import { checkOutputFolder, writeAdaptedModel } from './write-model.ts';

export type AdaptPhase = 'photos' | 'cross-validation' | 'training' | 'writing';

export interface AdaptProgress {
  phase: AdaptPhase;
  /** Work units done and in all (photos embedded, epochs trained), over every phase. */
  done: number;
  total: number;
}

export interface AdaptParams {
  baseDir: string;
  outDir: string;
  photos: Pick<AdaptPhoto, 'file' | 'label' | 'name'>[];
  /** Id of the new model; default `<base id>-adapted-<UTC stamp>`. */
  id?: string;
  options?: Partial<AdaptOptions>;
  /** Embeds one photo with the base model; default: the base folder loaded here. */
  embed?: (file: string) => Promise<Embedding>;
  /** The base model's reference features; default: read from the base folder. */
  reference?: ReferenceFeatures;
  /** Called between epochs and photos, so a caller sharing the thread can serve other work. */
  pause?: Pause;
  onProgress?: (p: AdaptProgress) => void;
  /** Checked between steps: adaptation stops with an AbortError and writes nothing. */
  signal?: AbortSignal;
  now?: Date;
}

export interface AdaptOutcome {
  dir: string;
  card: ModelCard;
  crossValidation: CrossValidation;
  seconds: number;
}

function gitRevision(): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], {
      cwd: repoRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return 'unknown';
  }
}

export function defaultAdaptedId(base: ModelCard, now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${base.id}-adapted-${stamp}`;
}

/**
 * Adapts a base model folder to a clinic's labelled photos and writes a complete model folder (see
 * docs in model/README.md, "Adapting to a clinic's otoscope"). The photos' labels must already be checked
 * against the base card (readAdaptManifest); unreadable photos are reported together, before anything is
 * written.
 */
export async function adaptModel(p: AdaptParams): Promise<AdaptOutcome> {
  const started = Date.now();
  const now = p.now ?? new Date();
  const o: AdaptOptions = { ...DEFAULT_ADAPT_OPTIONS, ...p.options };
  const pause = p.pause ?? (async () => undefined);
  const check = () => p.signal?.throwIfAborted();
  const base = await readModelCard(p.baseDir);
  const labels = base.labels.map((l) => l.id);
  const outProblem = checkOutputFolder(p.outDir);
  if (outProblem) throw new AdaptInputError([outProblem]);
  const unknown = p.photos.filter((ph) => !labels.includes(ph.label));
  if (unknown.length) {
    throw new AdaptInputError(
      unknown.map(
        (ph) => `${ph.name}: unknown label "${ph.label}" (the base model's labels: ${labels.join(', ')})`,
      ),
    );
  }
  const weights = await WeightFiles.read(p.baseDir);
  const classLayer = base.outputs.classKernelLayer;
  const gateLayer = base.outputs.gateLogit;
  // Fails early for a base whose heads are not dense layers on the pooled features.
  const baseHeads = { classHead: weights.dense(classLayer), gate: weights.dense(gateLayer) };

  const reference = p.reference ?? (await readReferenceFeatures(p.baseDir));
  if (!reference) {
    throw new ModelLoadError(
      `${p.baseDir} has no reference features (reference-features.json), which adaptation trains on; ` +
        `\`eardrum calibrate --model ${p.baseDir}\` adds them where ../shared/datasets is at hand`,
    );
  }

  let own: EardrumClassifier | null = null;
  const embed =
    p.embed ??
    (async (file: string) => {
      own ??= await EardrumClassifier.load(p.baseDir);
      return own.embed(file);
    });
  try {
    const cvFolds = foldCount(
      Math.min(...labels.map((l) => p.photos.filter((ph) => ph.label === l).length).filter((n) => n > 0)),
    );
    const epochs = adaptSteps(o);
    const total = p.photos.length + cvFolds * epochs + epochs + 1;
    let done = 0;
    const report = (phase: AdaptPhase, step = 1) => {
      done += step;
      p.onProgress?.({ phase, done, total });
    };

    const embedded: Embedding[] = [];
    const problems: string[] = [];
    for (const ph of p.photos) {
      check();
      try {
        embedded.push(await embed(ph.file));
      } catch (err) {
        if (!(err instanceof ImageInputError)) throw err;
        problems.push(`${ph.name}: unreadable photo (${err.message})`);
      }
      report('photos');
      await pause();
    }
    if (problems.length) throw new AdaptInputError(problems);

    const ref = toReferenceRows(reference, labels);
    const dim = ref.dim;
    if (embedded[0]!.features.length !== dim) {
      throw new Error(
        `the base model's reference features have ${dim} values per photo, its network gives ${embedded[0]!.features.length}`,
      );
    }
    const clinic: ClinicRows = {
      x: new Float32Array(embedded.length * dim),
      rows: embedded.length,
      dim,
      labelIndex: Int32Array.from(p.photos, (ph) => labels.indexOf(ph.label)),
    };
    embedded.forEach((e, i) => clinic.x.set(e.features, i * dim));

    check();
    const stepPause = async () => {
      check();
      await pause();
    };
    const heads = await trainAdaptedHeads(ref, clinic, labels.length, o, baseHeads, stepPause, () =>
      report('training'),
    );
    // Each fold starts from the heads fitted on all photos: the same optimum, far fewer iterations.
    const cv = await crossValidate(
      ref,
      clinic,
      {
        classLogits: embedded.map((e) => e.classLogits),
        gateLogit: embedded.map((e) => e.gateLogit),
        heads: baseHeads,
      },
      labels,
      base.thresholds.eardrum,
      o,
      cvFolds,
      stepPause,
      () => report('cross-validation'),
      heads,
    );
    const crossValidation = cv.summary;
    check();

    const photosPerLabel: Record<string, number> = {};
    for (const ph of p.photos) photosPerLabel[ph.label] = (photosPerLabel[ph.label] ?? 0) + 1;
    const id = p.id ?? defaultAdaptedId(base, now);
    const card: ModelCard = {
      ...base,
      id,
      version: '1.0.0',
      name: `${base.name}, adapted to a clinic's otoscope`,
      created: now.toISOString(),
      gitRevision: gitRevision(),
      metrics: {},
      adaptation: {
        base: { id: base.id, version: base.version, name: base.name },
        date: now.toISOString(),
        photosPerLabel,
        adapted: [
          `class head: softmax regression (L-BFGS, l2 ${o.classL2}) on the base model's training eardrums plus the ${clinic.rows} clinic photos, each clinic photo weighted ${o.clinicWeight}x`,
          `eardrum gate: logistic regression${o.anchorGate ? ' pulled towards the base gate' : ''} (l2 ${o.gateL2}) on the base model's ${ref.rows} training rows (eardrums against negatives) plus the clinic photos as eardrums, weighted ${o.gateClinicWeight}x; threshold kept at ${base.thresholds.eardrum}`,
          'backbone, preprocessing, temperature and quality thresholds: unchanged',
          ...(base.notSure
            ? [
                `"not sure" rule: thresholds kept from the base; the ${clinic.rows} clinic photos joined the reference features (source "clinic"), so photos of this otoscope count as familiar`,
              ]
            : []),
        ],
        crossValidation: crossValidation as unknown as Record<string, unknown>,
        settings: { ...o, referenceRows: ref.rows, baseGateBias: baseHeads.gate.bias[0] },
      },
      limitations: [
        ...base.limitations,
        `Adapted on ${clinic.rows} photos of one clinic's otoscope; its figures on that otoscope are a cross-validated estimate on those photos only.`,
      ],
    };
    report('writing', 0);
    await writeAdaptedModel({
      baseDir: p.baseDir,
      outDir: p.outDir,
      weights,
      classLayer,
      gateLayer,
      heads,
      card,
      crossValidation,
      // The clinic's photos join the reference features: the "unfamiliar photo" check then knows this
      // otoscope, and a later adaptation from this model keeps them.
      extra: (dir) =>
        writeReferenceFeatures(
          dir,
          appendReference(
            reference,
            clinic.x,
            p.photos.map((ph) => ({ label: ph.label, source: 'clinic', eardrum: true })),
          ),
        ),
    });
    report('writing');
    return {
      dir: path.resolve(p.outDir),
      card,
      crossValidation,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    (own as EardrumClassifier | null)?.dispose();
  }
}
