/**
 * `npm run bench:ingest`: figures for the watched-folder engine with the shipped model (prints, never fails).
 *   1. file closed by the writer → diagnosis committed and event sent: p50/p95, split into the wait for the
 *      write to finish and the processing after it (images written one at a time, like an otoscope);
 *   2. burst throughput: 1,000 images copied in at once;
 *   3. board queries and counts on 100,000 synthetic records;
 *   4. CSV export of those 100,000 rows;
 *   Burst, board and CSV run on SQLite and on PostgreSQL in the same run, side by side: the server `--pg URL`
 *   names (`--pg-password-file FILE`; the bench creates and drops `eardrum_bench_*` databases there), or a
 *   temporary one it starts (initdb) when no URL is given. `--no-pg` skips PostgreSQL.
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
import { parseArgs } from 'node:util';
import type { EngineEvent } from '../common/contract.ts';
import { writeCsv } from '../main/export/csv-export.ts';
import { WorkerDiagnoser } from '../main/model/worker-diagnoser.ts';
import { createServices, type Services } from '../main/services.ts';
import { openDatabase } from '../main/store/database.ts';
import { SqliteStore } from '../main/store/sqlite-store.ts';
import { createPool, pgClientConfig } from '../main/store/pg-pool.ts';
import { PgStore } from '../main/store/pg-store.ts';
import type { Store } from '../main/store/store.ts';
import { defaultModelDir } from '../model/classifier.ts';
import { benchPostgres, fillSyntheticPg, type BenchPostgres } from './ingest-pg.ts';
import { datasetImages, fillSynthetic, percentile, variant } from './ingest-data.ts';

const env = (name: string, dflt: number) => Number(process.env[name] ?? dflt);
const SINGLES = env('BENCH_SINGLES', 40);
const BURST = env('BENCH_BURST', 1000);
const RECORDS = env('BENCH_RECORDS', 100_000);
const RSS_IMAGES = env('BENCH_RSS_IMAGES', 5000);

const { values: cli } = parseArgs({
  options: {
    pg: { type: 'string' },
    'pg-password-file': { type: 'string' },
    'no-pg': { type: 'boolean' },
  },
});

const root = mkdtempSync(path.join(os.tmpdir(), 'eardrum-bench-'));
const ms = (v: number) => `${v.toFixed(0)} ms`;
const mb = (v: number) => `${(v / 1048576).toFixed(1)} MB`;

function line(label: string, value: string, target = ''): void {
  console.log(`  ${label.padEnd(46)} ${value.padStart(14)}   ${target}`);
}

/** A figure for SQLite and PostgreSQL side by side (PostgreSQL's column empty when it was not measured). */
function pair(label: string, sqlite: string, postgres: string | undefined, target = ''): void {
  console.log(`  ${label.padEnd(46)} ${sqlite.padStart(12)} ${(postgres ?? '—').padStart(12)}   ${target}`);
}

/** Where a run's history lives: SQLite in its data folder, or a PostgreSQL database. */
interface Backend {
  name: 'SQLite' | 'PostgreSQL';
  dbPath?: string;
  dbPasswordFile?: string;
}

async function withEngine<T>(
  name: string,
  diagnoser: WorkerDiagnoser,
  fn: (s: Services, watch: string) => Promise<T>,
  backend: Backend = { name: 'SQLite' },
) {
  const watch = path.join(root, `${name}-watch`);
  mkdirSync(watch, { recursive: true });
  const s = await createServices({
    dataDir: path.join(root, `${name}-data`),
    watchDir: watch,
    diagnoser,
    ...(backend.dbPath ? { dbPath: backend.dbPath } : {}),
    ...(backend.dbPasswordFile ? { dbPasswordFile: backend.dbPasswordFile } : {}),
  });
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

async function burst(d: WorkerDiagnoser, images: string[], backend: Backend): Promise<number> {
  console.log(`\n2. Burst: ${BURST} images copied in at once (${backend.name})`);
  return withEngine(
    `burst-${backend.name}`,
    d,
    async (s, watch) => {
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
      return BURST / secs;
    },
    backend,
  );
}

const BENCH_LABELS = ['normal', 'aom', 'effusion', 'com', 'earwax', 'otitis_externa', 'tympanosclerosis'].map(
  (id) => ({ id, en: id, ko: id, abnormal: id !== 'normal' && id !== 'earwax' }),
);

/** The median of 15 runs after one warm-up, in ms. */
async function time(fn: () => Promise<unknown>, runs = 15): Promise<number> {
  await fn();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const a = performance.now();
    await fn();
    t.push(performance.now() - a);
  }
  return percentile(t, 50);
}

/** Board, counts and CSV figures of one store holding the synthetic records. */
async function storeFigures(store: Store, csvOut: string) {
  store.setLabels(BENCH_LABELS);
  const page = (filter: object, sort = { field: 'capturedAt', direction: 'desc' } as const) =>
    store.list({ filter, sort, offset: 0, limit: 50 });
  const f = {
    first: await time(() => page({})),
    labelMonth: await time(() => page({ labels: ['aom'], from: '2025-06-01', to: '2025-06-30' })),
    patient: await time(() => page({ patientId: 'P123' })),
    unreviewed: await time(() =>
      page({ reviewed: false, abnormal: true }, { field: 'confidence', direction: 'desc' } as never),
    ),
    text: await time(() => page({ text: 'p77_' })),
    deep: await time(() =>
      store.list({ filter: {}, sort: { field: 'capturedAt', direction: 'desc' }, offset: 50_000, limit: 50 }),
    ),
    visits: await time(() => store.visits({ filter: {}, offset: 0, limit: 50 })),
    days90: await time(() => store.countsPerDay({ from: '2025-10-03', to: '2025-12-31' })),
    year: await time(() => store.countsPerDay({})),
    csvMs: 0,
    csvRows: 0,
    csvBytes: 0,
  };
  const e0 = performance.now();
  f.csvRows = await writeCsv(store, createWriteStream(csvOut), {
    filter: {},
    sort: { field: 'capturedAt', direction: 'asc' },
    language: 'ko',
  });
  f.csvMs = performance.now() - e0;
  f.csvBytes = statSync(csvOut).size;
  return f;
}

async function queriesAndExport(server: BenchPostgres | null) {
  console.log(`\n4. Board queries on ${RECORDS.toLocaleString('en')} synthetic records (median of 15)`);
  const dir = path.join(root, 'synthetic');
  const { db } = await openDatabase(path.join(dir, 'eardrum.sqlite'), {
    backupDir: path.join(dir, 'backups'),
  });
  let t0 = performance.now();
  fillSynthetic(db, RECORDS);
  db.pragma('optimize');
  const fillSqlite = performance.now() - t0;
  const sqlite = await storeFigures(new SqliteStore(db, null), path.join(dir, 'export-sqlite.csv'));
  db.close();
  let pgStore: PgStore | null = null;
  let fillPg: number | undefined;
  let pgf: Awaited<ReturnType<typeof storeFigures>> | undefined;
  if (server) {
    const url = await server.createDatabase('board');
    const connect = { url, passwordFile: server.passwordFile, applicationName: 'bench' };
    pgStore = await PgStore.open(createPool(connect), url, {
      workstation: 'bench',
      listenConfig: pgClientConfig(connect),
    });
    try {
      t0 = performance.now();
      await fillSyntheticPg(pgStore.pool, RECORDS);
      fillPg = performance.now() - t0;
      pgf = await storeFigures(pgStore, path.join(dir, 'export-pg.csv'));
    } finally {
      await pgStore.close();
    }
  }
  const both = (label: string, k: keyof typeof sqlite, target = '') =>
    pair(label, ms(sqlite[k]), pgf ? ms(pgf[k]) : undefined, target);
  pair('', 'SQLite', 'PostgreSQL');
  pair('fill', ms(fillSqlite), fillPg === undefined ? undefined : ms(fillPg));
  both('first page, newest first (+ total)', 'first', 'target ≤ 50 ms');
  both('label + date range (a month)', 'labelMonth');
  both('patient', 'patient');
  both('not reviewed, abnormal, sort by confidence', 'unreviewed');
  both('free text', 'text');
  both('page 1,000 (offset 50,000)', 'deep');
  both('visits, first page', 'visits');
  both('counts per label per day, last 90 days', 'days90');
  both('counts per label per day, whole year', 'year');

  console.log(`\n5. CSV export of ${RECORDS.toLocaleString('en')} rows (Korean headers)`);
  pair('', 'SQLite', 'PostgreSQL');
  both('export', 'csvMs', 'target ≤ 3000 ms');
  pair(
    'rows / size',
    `${sqlite.csvRows} / ${mb(sqlite.csvBytes)}`,
    pgf ? `${pgf.csvRows} / ${mb(pgf.csvBytes)}` : undefined,
  );
  if (pgf && sqlite.csvBytes !== pgf.csvBytes)
    console.log('  (the two files differ in size: record ids or values are not the same)');
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
  const server = cli['no-pg'] ? null : await benchPostgres(cli.pg, cli['pg-password-file']);
  console.log(
    server
      ? `PostgreSQL: ${server.describe}`
      : 'PostgreSQL: not measured (--no-pg, or no server binaries: apt-get install postgresql)',
  );
  try {
    if (d && SINGLES > 0) await latency(d, images);
    if (d && BURST > 0) {
      const sqliteRate = await burst(d, images, { name: 'SQLite' });
      if (server) {
        const url = await server.createDatabase('burst');
        const pgRate = await burst(d, images, {
          name: 'PostgreSQL',
          dbPath: url,
          dbPasswordFile: server.passwordFile,
        });
        line(
          'PostgreSQL / SQLite throughput',
          `${((pgRate / sqliteRate) * 100).toFixed(0)} %`,
          'target ≥ 80 %',
        );
      }
    }
    if (d && RSS_IMAGES > 0) await rss(d, images);
    if (RECORDS > 0) await queriesAndExport(server);
  } finally {
    await d?.close();
    await server?.close();
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
