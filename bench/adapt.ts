/**
 * `npm run bench:adapt [-- loso|hundred]`: the acceptance figures of `eardrum adapt` (issue 8).
 *
 * loso: leave-one-source-out. For each direction A → B, a base model trained on source A only
 * (`eardrum train --method linear --sources A --min-images 10 --id base-<a> --out .cache/loso --no-eval`, then
 * `eardrum calibrate --model .cache/loso/base-<a>` for its reference features; the script says so when one
 * is missing) is adapted on 10 photos per shared label (normal, ventilation_tube) of B's train split
 * and measured on B's test photos of those labels before and after: accuracy (of the photos called
 * eardrums), normal-vs-abnormal AUC, eardrums rejected, and the time adaptation took.
 * hundred: the shipped model adapted on 100 photos of the val split (not in its training features); time,
 * and accuracy on the whole shared test split before and after.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { adaptModel } from '../model/adapt/adapt.ts';
import { readAdaptManifest } from '../model/adapt/manifest.ts';
import { selectBackend } from '../model/backend.ts';
import { EardrumClassifier, defaultModelDir } from '../model/classifier.ts';
import { readDataset, sharedDatasetsDir, type Sample } from '../model/data/dataset.ts';
import { diagnoseAll, summarise } from '../model/eval/evaluate.ts';
import { repoRoot } from '../model/paths.ts';
import { seededRandom } from '../model/train/softmax-head.ts';

const SOURCES = { turkey: 'basaran2019_vanyyu_turkey', ohio: 'otomatch2020_osu_ohio' } as const;
const SHARED = ['normal', 'ventilation_tube'];
const mode = process.argv[2] ?? 'loso';

function shuffled<T>(items: T[], seed: number): T[] {
  const rand = seededRandom(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** A clinic folder of links to the chosen photos, with its manifest. */
function clinicFolder(root: string, samples: Sample[]): string {
  const dir = path.join(root, 'clinic');
  mkdirSync(dir);
  const lines = ['file,label'];
  samples.forEach((s, i) => {
    const name = `${i}${path.extname(s.file)}`;
    symlinkSync(s.file, path.join(dir, name));
    lines.push(`${name},${s.label}`);
  });
  writeFileSync(path.join(dir, 'manifest.csv'), lines.join('\n') + '\n');
  return dir;
}

async function measure(dir: string, samples: Sample[]) {
  const c = await EardrumClassifier.load(dir);
  const outcomes = await diagnoseAll(c, samples);
  // The not-sure decision of each eardrum answer (diagnoseAll keeps only the label).
  let eardrums = 0;
  let confident = 0;
  let confidentRight = 0;
  let unfamiliar = 0;
  for (const s of samples) {
    const d = await c.diagnose(s.file);
    if (d.gate !== 'eardrum') continue;
    eardrums++;
    if (d.notSureReasons.includes('unfamiliar')) unfamiliar++;
    if (d.decision === 'confident') {
      confident++;
      if (d.label === s.label) confidentRight++;
    }
  }
  const r = summarise(
    outcomes,
    c.labels.map((l) => l.id),
  );
  const hasRule = Boolean(c.card.notSure);
  c.dispose();
  return {
    accuracy: r.classification?.accuracy ?? Number.NaN,
    auc: r.normalVsAbnormalAuc ?? Number.NaN,
    rejected: r.eardrumRejectionRate ?? Number.NaN,
    endToEnd: r.endToEndAccuracy ?? Number.NaN,
    images: r.images,
    confident: hasRule && eardrums ? confident / eardrums : Number.NaN,
    confidentAccuracy: hasRule && confident ? confidentRight / confident : Number.NaN,
    unfamiliar: hasRule && eardrums ? unfamiliar / eardrums : Number.NaN,
  };
}

const f3 = (v: number) => (Number.isNaN(v) ? 'n/a' : v.toFixed(3));
const pct = (v: number) => `${(100 * v).toFixed(1)}%`;

await selectBackend('auto');
const oto = readDataset(path.join(sharedDatasetsDir(), 'otoscopy'));
const tmp = mkdtempSync(path.join(os.tmpdir(), 'bench-adapt-'));
try {
  if (mode === 'loso') {
    console.log(
      '| base (trained on) | adapted on | photos | test photos | accuracy before → after | AUC before → after | eardrums rejected before → after | end-to-end before → after | adapt time |',
    );
    console.log('|---|---|---|---|---|---|---|---|---|');
    const notSure: string[] = [];
    for (const [a, b] of [
      ['turkey', 'ohio'],
      ['ohio', 'turkey'],
    ] as const) {
      const baseDir = path.join(repoRoot, '.cache', 'loso', `base-${a}`);
      if (!existsSync(path.join(baseDir, 'model-card.json'))) {
        console.error(
          `missing ${baseDir}: run  node bin/eardrum.mjs train --method linear --sources ${SOURCES[a]} --min-images 10 --id base-${a} --out .cache/loso --no-eval` +
            ` && node bin/eardrum.mjs calibrate --model ${baseDir}`,
        );
        process.exitCode = 1;
        continue;
      }
      const pool = (label: string) =>
        shuffled(
          oto.filter((s) => s.split === 'train' && s.source === SOURCES[b] && s.label === label),
          20261130,
        ).slice(0, 10);
      const photos = [...pool('normal'), ...pool('ventilation_tube')];
      const test = oto.filter(
        (s) => s.split === 'test' && s.source === SOURCES[b] && SHARED.includes(s.label),
      );
      const root = path.join(tmp, `${a}-${b}`);
      mkdirSync(root);
      const data = clinicFolder(root, photos);
      const out = path.join(root, 'adapted');
      const started = Date.now();
      const manifest = readAdaptManifest(data, SHARED);
      const outcome = await adaptModel({ baseDir, outDir: out, photos: manifest });
      const seconds = (Date.now() - started) / 1000;
      const before = await measure(baseDir, test);
      const after = await measure(out, test);
      const counts = SHARED.map((l) => `${photos.filter((p) => p.label === l).length} ${l}`).join(' + ');
      console.log(
        `| ${a} | ${b} train | ${counts} | ${test.length} | ${f3(before.accuracy)} → ${f3(after.accuracy)} | ${f3(before.auc)} → ${f3(after.auc)} | ${pct(before.rejected)} → ${pct(after.rejected)} | ${f3(before.endToEnd)} → ${f3(after.endToEnd)} | ${seconds.toFixed(0)} s (cross-validated on the photos: ${outcome.crossValidation.before.right} → ${outcome.crossValidation.after.right} of ${outcome.crossValidation.photos} right) |`,
      );
      notSure.push(
        `| ${a} → ${b} | ${pct(before.confident)} → ${pct(after.confident)} | ${f3(before.confidentAccuracy)} → ${f3(after.confidentAccuracy)} | ${pct(before.unfamiliar)} → ${pct(after.unfamiliar)} |`,
      );
    }
    console.log('\n"Not sure" on the same test photos (of those called eardrums):\n');
    console.log('| direction | confident before → after | right when confident | unfamiliar |');
    console.log('|---|---|---|---|');
    for (const line of notSure) console.log(line);
  } else if (mode === 'hundred') {
    const baseDir = defaultModelDir();
    const base = await EardrumClassifier.load(baseDir);
    const labels = base.labels.map((l) => l.id);
    base.dispose();
    // 100 photos in random order, leaving out labels that would get fewer than 3 (adapt refuses those).
    let pool = shuffled(
      oto.filter((s) => s.split === 'val' && labels.includes(s.label)),
      20261130,
    );
    let photos = pool.slice(0, 100);
    for (;;) {
      const few = labels.filter((l) => {
        const n = photos.filter((p) => p.label === l).length;
        return n > 0 && n < 3;
      });
      if (!few.length) break;
      pool = pool.filter((p) => !few.includes(p.label));
      photos = pool.slice(0, 100);
    }
    const data = clinicFolder(tmp, photos);
    const out = path.join(tmp, 'adapted');
    const started = Date.now();
    await adaptModel({ baseDir, outDir: out, photos: readAdaptManifest(data, labels) });
    const seconds = (Date.now() - started) / 1000;
    const test = oto.filter((s) => s.split === 'test');
    const before = await measure(baseDir, test);
    const after = await measure(out, test);
    const counts = labels.map((l) => `${l} ${photos.filter((p) => p.label === l).length}`).join(', ');
    console.log(`100 val photos (${counts}) adapted in ${seconds.toFixed(1)} s`);
    console.log(
      `shared test split (${before.images} photos): accuracy ${f3(before.accuracy)} → ${f3(after.accuracy)}, AUC ${f3(before.auc)} → ${f3(after.auc)}, eardrums rejected ${pct(before.rejected)} → ${pct(after.rejected)}`,
    );
    console.log(
      `not sure: confident ${pct(before.confident)} → ${pct(after.confident)}, right when confident ${f3(before.confidentAccuracy)} → ${f3(after.confidentAccuracy)}, unfamiliar ${pct(before.unfamiliar)} → ${pct(after.unfamiliar)}`,
    );
  } else {
    console.error('usage: npm run bench:adapt [-- loso|hundred]');
    process.exitCode = 2;
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
