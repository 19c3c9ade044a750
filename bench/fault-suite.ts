/**
 * The fault suite: throws good, duplicated, renamed, bad, unsupported, oversized, deep and oddly named files at
 * a running engine, with hand uploads beyond the limit and hostile API calls through the HTTP bridge, then
 * checks every file's outcome. Used by `npm run bench:faults` (the real model, full size, figures for the
 * README) and by tests/engine/fault-suite.test.ts (the fake model, small, asserted).
 */
import type Database from 'better-sqlite3';
import { copyFileSync, mkdirSync, readFileSync, renameSync, truncateSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { variant } from './ingest-data.ts';

export interface FaultSuiteSizes {
  /** Distinct good photos. */
  good: number;
  /** Of those, saved again under another patient's name (a second source each). */
  copies: number;
  /** Of those, renamed after they were ingested. */
  renames: number;
  /** Each kind of bad file: empty, text named .jpg, truncated JPEG, JPEG named .dat, GIF, HEIC. */
  bad: number;
  /** Files larger than 25 MB (sparse). */
  huge: number;
  /** Photos 45 folders down. */
  deep: number;
  /** Names holding a line break, a tab or an escape character. */
  oddNames: number;
  /** Files that are not ours (notes.txt, temporary and hidden files): no record expected. */
  ignored: number;
  /** Hand uploads sent at once (at most two are taken; the rest must be told 429). */
  uploads: number;
  /** Bytes appended after each uploaded JPEG's end marker (decoders ignore them): 24 MB uploads. */
  uploadPadBytes: number;
  /** Hostile API calls through the bridge. */
  apiCalls: number;
}

export interface FaultSuiteFigures {
  filesThrown: number;
  recordsExpected: number;
  failuresExpected: number;
  failuresWithRightReason: number;
  lost: number;
  duplicated: number;
  diagnosesPerPhotoMax: number;
  wrongOutcome: string[];
  uploadsAccepted: number;
  uploadsTold429: number;
  apiCalls: number;
  answers5xx: number;
  peakRssMb: number;
  seconds: number;
}

interface Expect {
  /** Path relative to the watched folder at the end (after renames). */
  rel: string;
  /** `done` for a photo, else the failure code; null: no record at all. */
  outcome: 'done' | string | null;
  patientId?: string;
}

/** A small JPEG of its own (distinct bytes) when no dataset photos are given. */
async function jpeg(seed: number): Promise<Buffer> {
  const c = { r: (seed * 37) % 256, g: (seed * 91 + 13) % 256, b: (seed * 53 + 101) % 256 };
  return sharp({ create: { width: 96, height: 96, channels: 3, background: c } })
    .jpeg()
    .toBuffer();
}

/** Peak resident memory of a process so far (Linux: VmHWM), in bytes; null where unknown. */
function peakRssOf(pid: number): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

export async function runFaultSuite(opts: {
  /** The engine's database (a read-only connection will do): outcomes are judged from it. */
  db: Database.Database;
  /** The HTTP bridge: origin and token. */
  url: string;
  token: string;
  /** The engine's process, when it runs apart (its peak RSS is reported); default this process. */
  pid?: number;
  watchDir: string;
  sizes: FaultSuiteSizes;
  /** Real photos to use for the good files (cycled, each made distinct); synthetic JPEGs when empty. */
  photos?: Buffer[];
  settle: (records: number, timeoutMs: number) => Promise<void>;
  log?: (line: string) => void;
}): Promise<FaultSuiteFigures> {
  const { db, watchDir, sizes } = opts;
  const bridge = { url: opts.url, token: opts.token };
  const log = opts.log ?? (() => undefined);
  const started = Date.now();
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  const expected: Expect[] = [];
  let thrown = 0;
  const put = async (rel: string, data: Buffer | string, outcome: Expect['outcome'], patientId?: string) => {
    const abs = path.join(watchDir, rel);
    mkdirSync(path.dirname(abs), { recursive: true });
    await writeFile(abs, data);
    thrown++;
    expected.push({ rel, outcome, ...(patientId ? { patientId } : {}) });
  };
  const photo = async (i: number) =>
    opts.photos && opts.photos.length > 0 ? variant(opts.photos[i % opts.photos.length]!) : jpeg(10_000 + i);

  try {
    // 1. Good photos, named patient_ear_date.
    const goods: { rel: string; bytes: Buffer }[] = [];
    for (let i = 0; i < sizes.good; i++) {
      const bytes = await photo(i);
      const rel = `G${i}_${i % 2 ? 'L' : 'R'}_20261101.jpg`;
      goods.push({ rel, bytes });
      await put(rel, bytes, 'done', `G${i}`);
    }
    // 2. Bad files of every kind, deep files, odd names, files that are not ours.
    const gif = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#0a0' } })
      .gif()
      .toBuffer();
    const heic = Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypheic'), Buffer.alloc(64, 1)]);
    for (let i = 0; i < sizes.bad; i++) {
      const good = await photo(50_000 + i);
      await put(`bad/E${i}_L.jpg`, '', 'image.empty');
      await put(`bad/T${i}_L.jpg`, `notes about patient ${i}\n`, 'image.not_image');
      await put(`bad/C${i}_R.jpg`, good.subarray(0, Math.floor(good.length * 0.5)), 'image.corrupt');
      await put(`bad/D${i}_R.dat`, await photo(60_000 + i), 'image.wrong_extension');
      await put(`bad/F${i}_L.gif`, gif, 'image.unsupported');
      await put(`bad/H${i}_R.heic`, heic, 'image.unsupported');
    }
    for (let i = 0; i < sizes.huge; i++) {
      const rel = `bad/HUGE${i}_L.jpg`;
      await put(rel, (await photo(70_000 + i)).subarray(0, 64), 'image.too_large');
      truncateSync(path.join(watchDir, rel), 30 * 1024 * 1024 + i);
    }
    for (let i = 0; i < sizes.deep; i++) {
      const dir = Array.from({ length: 45 }, (_, d) => `d${d}`).join('/');
      await put(`deep${i}/${dir}/DEEP${i}_L.jpg`, await photo(80_000 + i), 'done', `DEEP${i}`);
    }
    const odd = ['\n', '\t', '\u001b[31m'];
    for (let i = 0; i < sizes.oddNames; i++)
      await put(`odd${odd[i % odd.length]}${i}.jpg`, await photo(90_000 + i), 'done');
    for (let i = 0; i < sizes.ignored; i++) {
      await put(`notes-${i}.txt`, 'not ours', null);
      await put(`capture-${i}.jpg.tmp`, 'half written', null);
      await put(`.hidden-${i}.jpg`, await photo(95_000 + i), null);
    }

    // 3. Hand uploads beyond the limit, all at once, through the bridge.
    const upload = async (i: number) => {
      const bytes = Buffer.concat([await photo(99_000 + i), Buffer.alloc(sizes.uploadPadBytes, i + 1)]);
      const dataBase64 = bytes.toString('base64');
      const r = await fetch(`${bridge.url}/api/diagnose.upload`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${bridge.token}` },
        body: JSON.stringify({ fileName: `upload-${i}.jpg`, patientId: `UP${i}`, dataBase64 }),
      });
      await r.arrayBuffer();
      return r.status;
    };
    const uploadStatuses = await Promise.all(Array.from({ length: sizes.uploads }, (_, i) => upload(i)));
    log(`uploads answered ${uploadStatuses.join(', ')}`);

    // 4. Hostile API calls meanwhile.
    let answers5xx = 0;
    const hostile: [string, string][] = [
      ['records.list', '{"filter":{"from":"2026-13-45"}}'],
      ['records.list', '{"filter":{"to":"9999-12-31"}}'],
      ['records.countsPerDay', '{"filter":{"from":"2026-02-30"}}'],
      ['records.get', '{"id":1e300}'],
      ['records.get', 'null'],
      ['reviews.add', '{"recordId":-1,"action":"override"}'],
      ['settings.update', '{"watchDir":"relative/inbox"}'],
      [
        'settings.previewPattern',
        '{"pattern":"re:^(?<patient>(a|a)+)$","sample":"aaaaaaaaaaaaaaaaaaaaaaaaa!"}',
      ],
      ['dialog.chooseWatchDir', '{}'],
      ['diagnose.upload', '{"fileName":"x.jpg","dataBase64":"bm90IGFuIGltYWdl"}'],
      ['records.retry', '{"id":"1"}'],
      ['auth.login', 'null'],
    ];
    for (let i = 0; i < sizes.apiCalls; i++) {
      const [channel, body] = hostile[i % hostile.length]!;
      const r = await fetch(`${bridge.url}/api/${channel}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${bridge.token}` },
        body,
      });
      await r.arrayBuffer();
      if (r.status >= 500) answers5xx++;
    }

    // 5. Copies under other patients, and renames, once the originals are in.
    const expectedRecords = () =>
      expected.filter((e) => e.outcome !== null).length + uploadStatuses.filter((x) => x === 200).length;
    await opts.settle(expectedRecords(), 600_000);
    for (let i = 0; i < sizes.copies; i++) {
      const g = goods[i % goods.length]!;
      await put(`copies/K${i}_L.jpg`, g.bytes, 'done', `K${i}`);
    }
    for (let i = 0; i < sizes.renames; i++) {
      const g = goods[goods.length - 1 - (i % goods.length)]!;
      const to = `renamed/N${i}_R.jpg`;
      mkdirSync(path.join(watchDir, 'renamed'), { recursive: true });
      renameSync(path.join(watchDir, g.rel), path.join(watchDir, to));
      const e = expected.find((x) => x.rel === g.rel)!;
      e.rel = to;
      e.patientId = `N${i}`;
    }
    // A duplicate of a duplicate: copy one good photo twice more under the same new name's folder.
    if (goods.length > 0)
      copyFileSync(path.join(watchDir, expected[0]!.rel), path.join(watchDir, 'copies', 'again.jpg'));
    if (goods.length > 0) {
      thrown++;
      expected.push({ rel: 'copies/again.jpg', outcome: 'done' });
    }
    await new Promise((r) => setTimeout(r, 1500));
    await opts.settle(expectedRecords(), 600_000);

    // 6. Judge every file by its final path.
    const rows = db
      .prepare(
        "SELECT id, original_path, source, status, failure_code, patient_id, sha256 FROM images WHERE source = 'watch'",
      )
      .all() as {
      id: number;
      original_path: string;
      status: string;
      failure_code: string | null;
      patient_id: string | null;
      sha256: string;
    }[];
    const byPath = new Map<string, typeof rows>();
    for (const r of rows) byPath.set(r.original_path, [...(byPath.get(r.original_path) ?? []), r]);
    let lost = 0;
    let duplicated = 0;
    let failuresExpected = 0;
    let failuresRight = 0;
    const wrong: string[] = [];
    for (const e of expected) {
      const found = byPath.get(path.join(watchDir, e.rel)) ?? [];
      if (e.outcome === null) {
        if (found.length > 0) wrong.push(`${JSON.stringify(e.rel)}: should be ignored`);
        continue;
      }
      if (found.length === 0) {
        lost++;
        wrong.push(`${JSON.stringify(e.rel)}: no record`);
        continue;
      }
      if (found.length > 1) duplicated += found.length - 1;
      const r = found[0]!;
      if (e.outcome !== 'done') failuresExpected++;
      const outcome = r.status === 'done' ? 'done' : r.failure_code;
      if (outcome === e.outcome) {
        if (e.outcome !== 'done') failuresRight++;
      } else wrong.push(`${JSON.stringify(e.rel)}: ${outcome}, expected ${e.outcome}`);
      if (e.patientId && r.patient_id !== e.patientId)
        wrong.push(`${JSON.stringify(e.rel)}: patient ${r.patient_id}, expected ${e.patientId}`);
    }
    // Records for paths no file ended at (a rename storm's intermediate names, say) are duplicates too.
    const finalPaths = new Set(
      expected.filter((e) => e.outcome !== null).map((e) => path.join(watchDir, e.rel)),
    );
    const stray = rows.filter((r) => !finalPaths.has(r.original_path)).length;
    if (stray > 0) wrong.push(`${stray} records at paths no file ended at`);
    const perPhoto = db
      .prepare('SELECT max(n) FROM (SELECT count(*) AS n FROM diagnoses GROUP BY image_id)')
      .pluck()
      .get() as number | null;
    const twiceDiagnosed = db
      .prepare(
        `SELECT count(*) FROM (SELECT i.sha256 FROM diagnoses d JOIN images i ON i.id = d.image_id
           GROUP BY i.sha256 HAVING count(*) > 1)`,
      )
      .pluck()
      .get() as number;
    return {
      filesThrown: thrown,
      recordsExpected: expected.filter((e) => e.outcome !== null).length,
      failuresExpected,
      failuresWithRightReason: failuresRight,
      lost,
      duplicated: duplicated + stray + twiceDiagnosed,
      diagnosesPerPhotoMax: perPhoto ?? 0,
      wrongOutcome: wrong,
      uploadsAccepted: uploadStatuses.filter((x) => x === 200).length,
      uploadsTold429: uploadStatuses.filter((x) => x === 429).length,
      apiCalls: sizes.apiCalls + sizes.uploads,
      answers5xx: answers5xx + uploadStatuses.filter((x) => x >= 500).length,
      peakRssMb: Math.round(((opts.pid ? peakRssOf(opts.pid) : null) ?? peakRss) / 1048576),
      seconds: Math.round((Date.now() - started) / 100) / 10,
    };
  } finally {
    clearInterval(sampler);
  }
}
