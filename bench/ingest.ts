/**
 * `npm run bench:ingest`: figures for the watched-folder engine with the shipped model (prints, never fails).
 *   1. file closed by the writer → diagnosis committed and event sent: p50/p95, split into the wait for the
 *      write to finish and the processing after it (images written one at a time, like an otoscope);
 *   2. burst throughput: 1,000 images copied in at once;
 *   3. board queries and counts on 100,000 synthetic records;
 *   4. CSV export of those 100,000 rows;
 *   5. RSS over 5,000 images (run with --expose-gc, as the npm script does, so samples follow a collection).
 * Sizes can be reduced for a quick look: BENCH_SINGLES, BENCH_BURST, BENCH_RECORDS, BENCH_RSS_IMAGES.
 */
import {
  createWriteStream,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { EngineEvent } from '../common/contract.ts';
import { writeCsv } from '../main/export/csv-export.ts';
import { WorkerDiagnoser } from '../main/model/worker-diagnoser.ts';
import { createServices, type Services } from '../main/services.ts';
import { openDatabase } from '../main/store/database.ts';
import { SqliteStore } from '../main/store/sqlite-store.ts';
import { RecordStore } from '../main/store/records.ts';
import { defaultModelDir } from '../model/classifier.ts';
import { datasetImages, fillSynthetic, percentile, variant } from './ingest-data.ts';

const env = (name: string, dflt: number) => Number(process.env[name] ?? dflt);
const SINGLES = env('BENCH_SINGLES', 40);
const BURST = env('BENCH_BURST', 1000);
const RECORDS = env('BENCH_RECORDS', 100_000);
const RSS_IMAGES = env('BENCH_RSS_IMAGES', 5000);

const root = mkdtempSync(path.join(os.tmpdir(), 'eardrum-bench-'));
const ms = (v: number) => `${v.toFixed(0)} ms`;
const mb = (v: number) => `${(v / 1048576).toFixed(1)} MB`;

function line(label: string, value: string, target = ''): void {
  console.log(`  ${label.padEnd(46)} ${value.padStart(14)}   ${target}`);
}

async function withEngine<T>(
  name: string,
  diagnoser: WorkerDiagnoser,
  fn: (s: Services, watch: string) => Promise<T>,
) {
  const watch = path.join(root, `${name}-watch`);
  mkdirSync(watch, { recursive: true });
  const s = await createServices({ dataDir: path.join(root, `${name}-data`), watchDir: watch, diagnoser });
  await s.start();
  try {
    return await fn(s, watch);
  } finally {
    await s.stop();
  }
}

function waitForDone(s: Services, n: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const off = s.subscribe((e) => {
      if (e.type === 'done' || (e.type === 'failed' && e.record)) {
        if (++seen >= n) {
          off();
          resolve();
        }
      }
    });
  });
}

async function latency(d: WorkerDiagnoser, images: string[]) {
  console.log(`\n1. File closed → diagnosis committed (${SINGLES} images written one at a time)`);
  await withEngine('latency', d, async (s, watch) => {
    const total: number[] = [];
    const wait: number[] = [];
    const proc: number[] = [];
    for (let i = 0; i < SINGLES; i++) {
      const bytes = variant(readFileSync(images[i % images.length]!));
      const file = path.join(watch, `L${i}_R_20261125_${String(i).padStart(6, '0')}.jpg`);
      const done = new Promise<EngineEvent>((resolve) => {
        const off = s.subscribe((e) => {
          if (e.type === 'done' || e.type === 'failed') {
            off();
            resolve(e);
          }
        });
      });
      await writeFile(file, bytes);
      const closedAt = performance.now();
      await done;
      const t = performance.now() - closedAt;
      const p = s.engine.timings.at(-1)!.processMs;
      total.push(t);
      proc.push(p);
      wait.push(t - p);
      await new Promise((r) => setTimeout(r, 150));
    }
    line(
      'closed → committed  p50 / p95',
      `${ms(percentile(total, 50))} / ${ms(percentile(total, 95))}`,
      'target p50 ≤ 1000 ms',
    );
    line(
      '  wait for the write to finish  p50 / p95',
      `${ms(percentile(wait, 50))} / ${ms(percentile(wait, 95))}`,
    );
    line(
      '  processing after complete  p50 / p95',
      `${ms(percentile(proc, 50))} / ${ms(percentile(proc, 95))}`,
      'target p50 ≤ 150, p95 ≤ 400 ms',
    );
  });
}

async function burst(d: WorkerDiagnoser, images: string[]) {
  console.log(`\n2. Burst: ${BURST} images copied in at once`);
  await withEngine('burst', d, async (s, watch) => {
    const done = waitForDone(s, BURST);
    const t0 = performance.now();
    for (let i = 0; i < BURST; i++) {
      writeFileSync(path.join(watch, `B${i}_L.jpg`), variant(readFileSync(images[i % images.length]!)));
    }
    const copied = performance.now() - t0;
    await done;
    const secs = (performance.now() - t0) / 1000;
    const c = await s.store.counts();
    line('copy time', ms(copied));
    line('all diagnosed after', `${secs.toFixed(1)} s`);
    line('throughput', `${(BURST / secs).toFixed(1)} img/s`, 'target ≥ 15 img/s');
    line('records done / failed / pending', `${c.done} / ${c.failed} / ${c.pending}`);
  });
}

async function queriesAndExport() {
  console.log(`\n4. Board queries on ${RECORDS.toLocaleString('en')} synthetic records`);
  const dir = path.join(root, 'synthetic');
  const { db } = await openDatabase(path.join(dir, 'eardrum.sqlite'), {
    backupDir: path.join(dir, 'backups'),
  });
  const t0 = performance.now();
  fillSynthetic(db, RECORDS);
  db.pragma('optimize');
  line('fill', ms(performance.now() - t0));
  const store = new RecordStore(db);
  store.setLabels(
    ['normal', 'aom', 'effusion', 'com', 'earwax', 'otitis_externa', 'tympanosclerosis'].map((id) => ({
      id,
      en: id,
      ko: id,
      abnormal: id !== 'normal' && id !== 'earwax',
    })),
  );
  const time = (fn: () => unknown, runs = 15) => {
    fn();
    const t: number[] = [];
    for (let i = 0; i < runs; i++) {
      const a = performance.now();
      fn();
      t.push(performance.now() - a);
    }
    return percentile(t, 50);
  };
  const page = (filter: object, sort = { field: 'capturedAt', direction: 'desc' } as const) =>
    store.list({ filter, sort, offset: 0, limit: 50 });
  line('first page, newest first (+ total)', ms(time(() => page({}))), 'target ≤ 50 ms');
  line(
    'label + date range (a month)',
    ms(time(() => page({ labels: ['aom'], from: '2025-06-01', to: '2025-06-30' }))),
  );
  line('patient', ms(time(() => page({ patientId: 'P123' }))));
  line(
    'not reviewed, abnormal, sort by confidence',
    ms(
      time(() =>
        page({ reviewed: false, abnormal: true }, { field: 'confidence', direction: 'desc' } as never),
      ),
    ),
  );
  line('free text', ms(time(() => page({ text: 'p77_' }))));
  line(
    'page 1,000 (offset 50,000)',
    ms(
      time(() =>
        store.list({
          filter: {},
          sort: { field: 'capturedAt', direction: 'desc' },
          offset: 50_000,
          limit: 50,
        }),
      ),
    ),
  );
  line(
    'counts per label per day, last 90 days',
    ms(time(() => store.countsPerDay({ from: '2025-10-03', to: '2025-12-31' }))),
  );
  line('counts per label per day, whole year', ms(time(() => store.countsPerDay({}))));

  console.log(`\n5. CSV export of ${RECORDS.toLocaleString('en')} rows`);
  const out = path.join(dir, 'export.csv');
  const e0 = performance.now();
  const rows = await writeCsv(new SqliteStore(db, null, store), createWriteStream(out), {
    filter: {},
    sort: { field: 'capturedAt', direction: 'asc' },
    language: 'ko',
  });
  line('export', `${ms(performance.now() - e0)}`, 'target ≤ 3000 ms');
  line('rows / size', `${rows} / ${mb(statSync(out).size)}`);
  db.close();
}

async function rss(d: WorkerDiagnoser, images: string[]) {
  console.log(`\n3. Memory over ${RSS_IMAGES} images (fed in batches of 250)`);
  await withEngine('rss', d, async (s, watch) => {
    const samples: { n: number; rss: number }[] = [];
    for (let start = 0; start < RSS_IMAGES; start += 250) {
      const n = Math.min(250, RSS_IMAGES - start);
      const done = waitForDone(s, n);
      for (let i = start; i < start + n; i++) {
        writeFileSync(path.join(watch, `M${i}.jpg`), variant(readFileSync(images[i % images.length]!)));
      }
      await done;
      global.gc?.();
      samples.push({ n: start + n, rss: process.memoryUsage().rss });
    }
    const base = samples.find((x) => x.n >= 500) ?? samples[0]!;
    const last = samples.at(-1)!;
    line(`RSS after ${base.n} images (warm)`, mb(base.rss));
    line(`RSS after ${last.n} images`, mb(last.rss));
    line('growth', mb(last.rss - base.rss), 'target ≤ 50 MB');
    line('peak RSS', mb(Math.max(...samples.map((x) => x.rss))));
  });
}

async function main() {
  console.log(
    `bench:ingest on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}`,
  );
  const images = datasetImages();
  if (images.length === 0) throw new Error('no dataset images found in ../shared/datasets');
  let modelDir: string | null = null;
  try {
    modelDir = defaultModelDir();
  } catch (err) {
    console.error(
      `No shipped model (${(err as Error).message}): only the database figures (3, 4) are measured.`,
    );
    process.exitCode = 1;
  }
  const d = modelDir ? await WorkerDiagnoser.start({ modelDir, backend: 'auto' }) : null;
  if (d)
    console.log(
      `model ${d.card.id} ${d.card.version}, backend ${d.backend}; ${images.length} dataset images`,
    );
  try {
    if (d && SINGLES > 0) await latency(d, images);
    if (d && BURST > 0) await burst(d, images);
    if (d && RSS_IMAGES > 0) await rss(d, images);
    if (RECORDS > 0) await queriesAndExport();
  } finally {
    await d?.close();
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
