/**
 * `npm run bench:faults`: the fault suite (bench/fault-suite.ts) against `eardrum serve` with the shipped
 * model, run as a child process as a clinic runs it; prints the figures the README quotes, the engine's peak
 * RSS among them. BENCH_FAULT_GOOD sets the number of distinct good photos (default 300).
 */
import Database from 'better-sqlite3';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServe } from '../tests/e2e/serve-process.ts';
import { runFaultSuite } from './fault-suite.ts';
import { datasetImages, repoRoot } from './ingest-data.ts';

const GOOD = Number(process.env.BENCH_FAULT_GOOD ?? 300);
const root = mkdtempSync(path.join(os.tmpdir(), 'eardrum-faults-'));
const watchDir = path.join(root, 'inbox');
const dataDir = path.join(root, 'data');
mkdirSync(watchDir);

const serve = await startServe(repoRoot, { watchDir, dataDir });
const db = new Database(path.join(dataDir, 'eardrum.sqlite'), { readonly: true, fileMustExist: true });
try {
  const photos = datasetImages()
    .filter((_, i) => i % 5 === 0)
    .slice(0, GOOD)
    .map((f) => readFileSync(f));
  const counts = () =>
    db.prepare('SELECT status, count(*) AS n FROM images GROUP BY status').all() as {
      status: string;
      n: number;
    }[];
  const f = await runFaultSuite({
    db,
    url: serve.origin,
    token: serve.token,
    pid: serve.child.pid!,
    watchDir,
    photos,
    sizes: {
      good: GOOD,
      copies: Math.round(GOOD / 10),
      renames: Math.round(GOOD / 15),
      bad: 10,
      huge: 2,
      deep: 5,
      oddNames: 6,
      ignored: 10,
      uploads: 3,
      uploadPadBytes: 24 * 1024 * 1024,
      apiCalls: 240,
    },
    settle: async (n, timeoutMs) => {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const c = Object.fromEntries(counts().map((r) => [r.status, r.n]));
        if ((c.done ?? 0) + (c.failed ?? 0) >= n && !c.pending) {
          // Nothing waiting in the engine either (files still being written or hashed).
          const info = (await (
            await fetch(`${serve.origin}/api/app.info`, {
              method: 'POST',
              headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${serve.token}` },
              body: '{}',
            })
          ).json()) as { value: { engine: { queued: number; processing: number } } };
          if (info.value.engine.queued + info.value.engine.processing === 0) break;
        }
        if (Date.now() > end) throw new Error(`records did not settle (${JSON.stringify(c)} of ${n})`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    log: (line) => console.log(`  ${line}`),
  });
  console.log('\nFault suite (`eardrum serve` with the shipped model, as a child process)');
  const row = (k: string, v: string | number) => console.log(`  ${k.padEnd(48)} ${String(v).padStart(10)}`);
  row('files thrown', f.filesThrown);
  row('records expected (the rest are not ours)', f.recordsExpected);
  row('failures recorded with the right reason', `${f.failuresWithRightReason} / ${f.failuresExpected}`);
  row('lost', f.lost);
  row('duplicated', f.duplicated);
  row('most diagnoses of one photo', f.diagnosesPerPhotoMax);
  row('24 MB uploads at once: accepted / told 429', `${f.uploadsAccepted} / ${f.uploadsTold429}`);
  row('API calls (hostile and uploads)', f.apiCalls);
  row('answers of 500 or above', f.answers5xx);
  row('peak RSS of serve (VmHWM)', `${f.peakRssMb} MB`);
  row('time', `${f.seconds} s`);
  if (f.wrongOutcome.length) console.log(`  wrong outcomes:\n    ${f.wrongOutcome.join('\n    ')}`);
} finally {
  db.close();
  const code = await serve.stop();
  if (code !== 0) console.error(`serve exited with ${code}:\n${serve.output().slice(-3000)}`);
  rmSync(root, { recursive: true, force: true });
}
