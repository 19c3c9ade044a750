import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { adaptModel } from '../../model/adapt/adapt.ts';
import { AdaptInputError, readAdaptManifest } from '../../model/adapt/manifest.ts';
import { EardrumClassifier, defaultModelDir } from '../../model/classifier.ts';
import { readDataset, sharedDatasetsDir, type Sample } from '../../model/data/dataset.ts';
import { diagnoseAll } from '../../model/eval/evaluate.ts';
import { WeightFiles } from '../../model/adapt/head-weights.ts';
import { denseLogits } from '../../model/adapt/train-heads.ts';
import { ungradableReason } from '../../model/quality.ts';
import { run as runAdapt } from '../../model/cli/adapt.ts';
import { run as runDiagnose } from '../../model/cli/diagnose.ts';
import { run as runEval } from '../../model/cli/eval.ts';
import { WorkerDiagnoser } from '../../main/model/worker-diagnoser.ts';
import { readReferenceFeatures } from '../../model/reference-features.ts';

/**
 * Adaptation on a labelled folder of one source (Turkey, train split) starting from the shipped model,
 * checked on both sources' test photos of the shared labels, and on the whole shared test split.
 */
const TURKEY = 'basaran2019_vanyyu_turkey';
const OHIO = 'otomatch2020_osu_ohio';
const SHARED = ['normal', 'ventilation_tube'];

let tmp: string;
let dataDir: string;
let outDir: string;
const baseDir = defaultModelDir();
let outcome: Awaited<ReturnType<typeof adaptModel>>;

function rightCount(outcomes: Awaited<ReturnType<typeof diagnoseAll>>): number {
  return outcomes.filter((o) => o.gate === 'eardrum' && o.label === o.truth).length;
}

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'adapt-test-'));
  dataDir = path.join(tmp, 'clinic');
  outDir = path.join(tmp, 'adapted');
  mkdirSync(dataDir);
  const oto = readDataset(path.join(sharedDatasetsDir(), 'otoscopy'), 'train');
  const pick = (label: string, n: number) =>
    oto.filter((s) => s.source === TURKEY && s.label === label).slice(0, n);
  const chosen = [...pick('normal', 10), ...pick('ventilation_tube', 10)];
  // Links, not copies: dataset images never get copied around.
  const lines = ['file,label,note'];
  chosen.forEach((s, i) => {
    const name = `photo-${i}${path.extname(s.file)}`;
    symlinkSync(s.file, path.join(dataDir, name));
    lines.push(`${name},${s.label},from ${path.basename(s.file)}`);
  });
  writeFileSync(path.join(dataDir, 'manifest.csv'), lines.join('\n') + '\n');
  outcome = await adaptModel({
    baseDir,
    outDir,
    photos: readAdaptManifest(dataDir, SHARED),
    now: new Date('2026-11-30T09:00:00Z'),
  });
}, 600_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('eardrum adapt', () => {
  it('writes a complete model folder with its own id and a card naming the base', async () => {
    for (const f of [
      'model.json',
      'weights.bin',
      'model-card.json',
      'NOTICE',
      'evaluation/adaptation.md',
      'reference-features.json',
      'reference-features.bin',
    ])
      expect(existsSync(path.join(outDir, f)), f).toBe(true);
    // The clinic's photos join the reference features (the "unfamiliar photo" check then knows them).
    const baseRef = (await readReferenceFeatures(baseDir))!;
    const ref = (await readReferenceFeatures(outDir))!;
    expect(ref.rows).toBe(baseRef.rows + 16);
    expect(ref.entries.slice(baseRef.rows).every((e) => e.source === 'clinic' && e.eardrum)).toBe(true);
    expect(ref.entries.slice(0, baseRef.rows)).toEqual(baseRef.entries);
    const card = outcome.card;
    const base = await EardrumClassifier.load(baseDir);
    expect(card.id).toBe(`${base.card.id}-adapted-20261130-090000`);
    expect(card.adaptation?.base.id).toBe(base.card.id);
    expect(card.adaptation?.photosPerLabel).toEqual({ normal: 10, ventilation_tube: 6 });
    expect(card.adaptation?.date).toBe('2026-11-30T09:00:00.000Z');
    expect(card.labels).toEqual(base.card.labels);
    expect(card.thresholds).toEqual(base.card.thresholds);
    const cv = outcome.crossValidation;
    expect(cv.photos).toBe(16);
    expect(cv.perLabel.map((l) => [l.label, l.photos])).toEqual([
      ['normal', 10],
      ['ventilation_tube', 6],
    ]);
    expect(cv.after.right).toBeGreaterThanOrEqual(0);
    base.dispose();
  });

  it("stays within 5 points of the base on both sources' test photos of the shared labels and on the shared test split", async () => {
    const test = readDataset(path.join(sharedDatasetsDir(), 'otoscopy'), 'test');
    const ohio = test.filter((s: Sample) => s.source === OHIO && SHARED.includes(s.label));
    const base = await EardrumClassifier.load(baseDir);
    const adapted = await EardrumClassifier.load(outDir);
    const labels = base.labels.map((l) => l.id);
    // The shipped model is trained on both sources and is already right on most of these photos; photos
    // that are borderline for it can flip either way (one per source, measured), so the issue's
    // bound on forgetting (within 5 points) is what is asserted on each source. The gain on a camera the
    // base has not seen is measured leave-one-source-out by `npm run bench:adapt`.
    const turkey = test.filter((s: Sample) => s.source === TURKEY && SHARED.includes(s.label));
    for (const photos of [ohio, turkey]) {
      const [b, a] = [await diagnoseAll(base, photos), await diagnoseAll(adapted, photos)];
      expect(rightCount(a) / photos.length).toBeGreaterThanOrEqual(rightCount(b) / photos.length - 0.05);
    }
    // The whole test split through one embedding per photo: the two models share the network up to the
    // heads, so their answers follow from each folder's head weights (same gate rule as the classifier).
    const models = await Promise.all(
      [baseDir, outDir].map(async (dir) => {
        const w = await WeightFiles.read(dir);
        return {
          cls: w.dense(base.card.outputs.classKernelLayer),
          gate: w.dense(base.card.outputs.gateLogit),
        };
      }),
    );
    const passed = [0, 0];
    const right = [0, 0];
    for (const s of test.filter((t) => labels.includes(t.label))) {
      const e = await base.embed(s.file);
      if (ungradableReason(e.quality, base.card.thresholds)) continue;
      models.forEach((m, i) => {
        const gate = 1 / (1 + Math.exp(-denseLogits(m.gate, e.features)[0]!));
        if (gate < base.card.thresholds.eardrum) return;
        passed[i]!++;
        const logits = denseLogits(m.cls, e.features);
        if (labels[logits.indexOf(Math.max(...logits))] === s.label) right[i]!++;
      });
    }
    const [bAll, aAll] = [right[0]! / passed[0]!, right[1]! / passed[1]!];
    expect(Math.abs(aAll - bAll)).toBeLessThanOrEqual(0.05);
    base.dispose();
    adapted.dispose();
  }, 600_000);

  it('loads everywhere a model folder is used: diagnose, eval and the engine worker', async () => {
    const photo = path.join(dataDir, 'photo-0.jpg');
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await runDiagnose(['--json', '--model', outDir, photo])).toBe(0);
      const line = JSON.parse(String(log.mock.calls.at(-1)![0])) as { model: { id: string } };
      expect(line.model.id).toBe(outcome.card.id);
      const json = path.join(tmp, 'eval.json');
      expect(await runEval(['--data', dataDir, '--model', outDir, '--json', json])).toBe(0);
      expect(existsSync(json)).toBe(true);
    } finally {
      log.mockRestore();
      err.mockRestore();
    }
    const worker = await WorkerDiagnoser.start({ modelDir: outDir, backend: 'wasm' });
    try {
      expect(worker.card.id).toBe(outcome.card.id);
      const { readFile } = await import('node:fs/promises');
      const d = await worker.diagnose(await readFile(photo));
      expect(d.model.id).toBe(outcome.card.id);
    } finally {
      await worker.close();
    }
  }, 120_000);

  it('refuses an unreadable photo and an output folder in use, naming them, and writes nothing', async () => {
    const bad = path.join(tmp, 'bad');
    mkdirSync(bad);
    writeFileSync(path.join(bad, 'note.jpg'), 'this is text, not a JPEG');
    for (const i of [1, 2, 3]) symlinkSync(path.join(dataDir, `photo-${i}.jpg`), path.join(bad, `p${i}.jpg`));
    writeFileSync(
      path.join(bad, 'manifest.csv'),
      'file,label\nnote.jpg,normal\np1.jpg,normal\np2.jpg,normal\np3.jpg,normal\n',
    );
    const target = path.join(tmp, 'never');
    await expect(
      adaptModel({ baseDir, outDir: target, photos: readAdaptManifest(bad, SHARED) }),
    ).rejects.toThrow(/note\.jpg: unreadable photo/);
    expect(existsSync(target)).toBe(false);
    const err = await adaptModel({ baseDir, outDir, photos: readAdaptManifest(bad, SHARED) }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AdaptInputError);
    expect((err as AdaptInputError).problems[0]).toMatch(/already exists and is not empty/);
  });

  it('the CLI prints one error line per problem and exits non-zero', async () => {
    const errors: string[] = [];
    const e = vi.spyOn(console, 'error').mockImplementation((m: unknown) => void errors.push(String(m)));
    try {
      writeFileSync(path.join(tmp, 'manifest.csv'), 'file,label\nx.jpg,wax\n');
      expect(await runAdapt(['--data', tmp, '--out', path.join(tmp, 'cli-out')])).toBe(1);
    } finally {
      e.mockRestore();
    }
    expect(errors).toContain(
      `error: manifest.csv line 2: x.jpg: unknown label "wax" (the base model's labels: ${outcome.card.labels.map((l) => l.id).join(', ')})`,
    );
    expect(errors.at(-1)).toBe('nothing was written.');
    expect(existsSync(path.join(tmp, 'cli-out'))).toBe(false);
  });
});
