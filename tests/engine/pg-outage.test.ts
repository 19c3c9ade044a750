import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { expect, it } from 'vitest';
import type { DatabaseConnection, EngineEvent } from '../../common/contract.ts';
import { createServices, type Services } from '../../main/services.ts';
import { createPool } from '../../main/store/pg-pool.ts';
import type { Logger } from '../../main/util/logger.ts';
import { FakeDiagnoser } from './helpers/fake-diagnoser.ts';
import { removeDir, syntheticJpeg, tempDir } from './helpers/fs-helpers.ts';
import { describePostgres, postgresPerFile } from './helpers/postgres-per-file.ts';

/**
 * The database goes away (issue 12, item 5): a real PostgreSQL is stopped in the middle of a 200-photo burst
 * and started again; the workstation keeps watching and diagnosing into its local queue, says so in its
 * status, and writes everything once the server is back, each photo once with one diagnosis.
 */
const server = postgresPerFile('outage', 'replay');

const lines: string[] = [];
const logger: Logger = {
  info: (m) => lines.push(m),
  warn: (m) => lines.push(m),
  error: (m) => lines.push(m),
};

function open(db: string, dataDir: string, watchDir: string): Promise<Services> {
  return createServices({
    dataDir,
    watchDir,
    dbPath: server.url(db),
    dbPasswordFile: server.passwordFile,
    diagnoser: new FakeDiagnoser(),
    stabilityMs: 100,
    logger,
  });
}

async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > end)
      throw new Error(
        `${what}: not within ${timeoutMs} ms\n${lines
          .filter((l) => !l.startsWith('done '))
          .slice(-30)
          .join('\n')}`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** What the history holds, read straight from the server (not through the workstation). */
async function history(db: string) {
  const pool = createPool({ url: server.url(db), passwordFile: server.passwordFile, max: 1 });
  try {
    const q = async <T extends pg.QueryResultRow>(sql: string) => (await pool.query<T>(sql)).rows;
    const [c] = await q<{ records: number; files: number; done: number; photos: number }>(
      `SELECT count(*) AS records, count(DISTINCT original_path) AS files,
         count(*) FILTER (WHERE status = 'done') AS done, count(DISTINCT sha256) AS photos FROM images`,
    );
    const [d] = await q<{ diagnoses: number; images: number; current: number }>(
      `SELECT count(*) AS diagnoses, count(DISTINCT image_id) AS images,
         (SELECT count(*) FROM images i JOIN diagnoses d ON d.id = i.diagnosis_id AND d.image_id = i.id) AS current
       FROM diagnoses`,
    );
    return { ...c!, ...d! };
  } finally {
    await pool.end();
  }
}

async function burst(dir: string, from: number, to: number, perMs = 8): Promise<void> {
  for (let i = from; i < to; i++) {
    writeFileSync(path.join(dir, `P${String(i).padStart(3, '0')}_L.jpg`), await syntheticJpeg(i));
    await new Promise((r) => setTimeout(r, perMs));
  }
}

describePostgres('PostgreSQL unreachable mid-burst', () => {
  it('keeps diagnosing 200 photos into a local queue while the server is down, then writes each exactly once', async () => {
    const dataDir = tempDir('outage-data');
    const watchDir = tempDir('outage-watch');
    const s = await open('outage', dataDir, watchDir);
    const states: DatabaseConnection[] = [];
    // Milestones in the log, so a failure says how far the burst had gone and how long each part took.
    const t0 = Date.now();
    const mark = (m: string) =>
      lines.push(`[${Date.now() - t0} ms] ${m}: ${JSON.stringify(s.engine.status())}`);
    s.subscribe((e: EngineEvent) => {
      const st = 'status' in e ? e.status.database : null;
      if (st && (states.at(-1)?.state !== st.state || states.at(-1)?.waiting !== st.waiting)) states.push(st);
    });
    try {
      await s.start();
      expect(s.engine.status().database).toEqual({ state: 'connected', since: null, waiting: 0 });
      mark('start');
      await burst(watchDir, 0, 60);
      mark('60 written');
      // Stopped in the middle: some photos written with their diagnoses, others on their way, most to come.
      await until('the first photos written', () => s.engine.status().done >= 20);
      await server.stopServer();
      mark('stopped');
      await burst(watchDir, 60, 200);
      mark('200 written');
      await until('unreachable, with photos kept locally', () => {
        const db = s.engine.status().database;
        return db.state === 'unreachable' && db.waiting > 20;
      });
      const down = s.engine.status();
      expect(down.database.since).not.toBeNull();
      expect(down.error).toBeNull(); // an outage is the database state's to tell, not a failure
      // Reads (the board) answer a clear error meanwhile, not a crash.
      const board = await s.call('records.list', {
        filter: {},
        sort: { field: 'capturedAt', direction: 'desc' },
        offset: 0,
        limit: 10,
      });
      expect(board).toMatchObject({ ok: false, error: { code: 'database_unreachable' } });
      // The model keeps going while the server is away: every photo of the burst gets its answer, those
      // written before the stop too (from their copies); what could not be written waits in the queue.
      await until('the whole burst diagnosed while down', () => {
        const st = s.engine.status();
        return st.done + st.failed >= 200 && st.queued + st.processing === 0;
      });
      mark('all diagnosed');
      const queuedDown = s.engine.status();
      expect(queuedDown.database.state).toBe('unreachable');
      expect(queuedDown.done + queuedDown.failed).toBe(200);
      expect(queuedDown.database.waiting).toBeGreaterThanOrEqual(140);
      await server.startServer();
      mark('started');
      await until(
        'caught up',
        () => {
          const db = s.engine.status().database;
          return db.state === 'connected' && db.waiting === 0;
        },
        150_000,
      );
      mark('caught up');
      await s.engine.idle();
      const h = await history('outage');
      expect(h).toEqual({
        records: 200,
        files: 200,
        photos: 200,
        done: 200,
        diagnoses: 200,
        images: 200,
        current: 200,
      });
      const seen = states.map((d) => d.state);
      expect(seen[0]).toBe('connected');
      expect(seen.indexOf('unreachable')).toBeGreaterThan(0);
      expect(seen.lastIndexOf('catching_up')).toBeGreaterThan(seen.indexOf('unreachable'));
      expect(seen.at(-1)).toBe('connected');
      expect(Math.max(...states.map((d) => d.waiting))).toBeGreaterThan(100);
      const page = await s.call('records.list', {
        filter: {},
        sort: { field: 'capturedAt', direction: 'desc' },
        offset: 0,
        limit: 10,
      });
      expect(page.ok && (page.value as { total: number }).total).toBe(200);
    } finally {
      await server.startServer().catch(() => undefined);
      await s.stop();
      removeDir(dataDir);
      removeDir(watchDir);
    }
  }, 300_000);

  it('replays a queue cut short after its writes (a crash mid-drain) without duplicating anything', async () => {
    const dataDir = tempDir('replay-data');
    const watchDir = tempDir('replay-watch');
    const outbox = path.join(dataDir, 'outbox.sqlite');
    const snapshot = path.join(tempDir('replay-snap'), 'outbox.sqlite');
    let s = await open('replay', dataDir, watchDir);
    try {
      await s.start();
      await server.stopServer();
      await burst(watchDir, 300, 330, 2);
      await until('30 photos diagnosed into the queue', () => {
        const st = s.engine.status();
        return st.done >= 30 && st.database.waiting === 30 && st.queued + st.processing === 0;
      });
      // Stopped while the server is away: the queue is all that holds these results.
      await s.stop();
      for (const ext of ['', '-wal'])
        if (existsSync(outbox + ext)) copyFileSync(outbox + ext, snapshot + ext);
      await server.startServer();
      s = await open('replay', dataDir, watchDir);
      await s.start();
      await until('written at the next start', () => s.engine.status().database.waiting === 0);
      await s.engine.idle();
      expect(await history('replay')).toMatchObject({ records: 30, done: 30, diagnoses: 30, current: 30 });
      await s.stop();
      // As after a crash between the writes and the entries' removal: every entry is still queued.
      for (const ext of ['', '-wal'])
        if (existsSync(snapshot + ext)) copyFileSync(snapshot + ext, outbox + ext);
      s = await open('replay', dataDir, watchDir);
      expect(s.engine.status().database.waiting).toBe(30);
      await s.start();
      await until('replayed', () => s.engine.status().database.waiting === 0);
      await s.engine.idle();
      expect(await history('replay')).toEqual({
        records: 30,
        files: 30,
        photos: 30,
        done: 30,
        diagnoses: 30,
        images: 30,
        current: 30,
      });
    } finally {
      await server.startServer().catch(() => undefined);
      await s.stop();
      removeDir(dataDir);
      removeDir(watchDir);
    }
  }, 120_000);
});
