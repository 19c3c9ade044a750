import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { createServices, type Services } from '../../main/services.ts';
import { createPool } from '../../main/store/pg-pool.ts';
import { FakeDiagnoser } from './helpers/fake-diagnoser.ts';
import { removeDir, syntheticJpeg, tempDir } from './helpers/fs-helpers.ts';
import { captureLog } from './helpers/log-capture.ts';
import { describePostgres, postgresPerFile } from './helpers/postgres-per-file.ts';

/**
 * A start with answers in the local queue whose photos are still in the watched folder: the folder's backlog
 * can store such a photo's record before the queue reaches it. The model must not answer it again; the
 * queue's answer is written to that record (two answers raced for the photo's one diagnosis before).
 */
const { logger, until } = captureLog();
const server = postgresPerFile('backlog');
const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

function open(dataDir: string, watchDir: string, diagnoser: FakeDiagnoser): Promise<Services> {
  return createServices({
    dataDir,
    watchDir,
    dbPath: server.url('backlog'),
    dbPasswordFile: server.passwordFile,
    diagnoser,
    stabilityMs: 100,
    logger,
  });
}

describePostgres('A start with queued answers and their photos still in the watched folder', () => {
  it('writes the queued answer to the record the backlog stored first, and does not diagnose it again', async () => {
    const dataDir = tempDir('backlog-data');
    const watchDir = tempDir('backlog-watch');
    dirs.push(dataDir, watchDir);
    let s = await open(dataDir, watchDir, new FakeDiagnoser());
    await s.start();
    await server.stopServer();
    // Two photos diagnosed into the queue while the server is away, in this order.
    writeFileSync(path.join(watchDir, 'PZ_L_first.jpg'), await syntheticJpeg(301));
    await until('first queued', () => s.engine.status().database.waiting === 1);
    writeFileSync(path.join(watchDir, 'PA_L_second.jpg'), await syntheticJpeg(302));
    await until('both answered into the queue', () => {
      const st = s.engine.status();
      return st.database.waiting === 2 && st.done === 2 && st.queued + st.processing === 0;
    });
    await s.stop();
    // Only the second photo is still in the folder (the queue holds its own copy of the first).
    rmSync(path.join(watchDir, 'PZ_L_first.jpg'));
    await server.startServer();

    // The queue's first write waits on patient PZ, which an open transaction is adding: the backlog's
    // record of the second photo is stored before the queue reaches its entry.
    const pool = createPool({ url: server.url('backlog'), passwordFile: server.passwordFile, max: 2 });
    const blocker = await pool.connect();
    const diagnoser = new FakeDiagnoser();
    try {
      await blocker.query('BEGIN');
      await blocker.query("INSERT INTO patients (id, created_at) VALUES ('PZ', '2026-11-30T00:00:00Z')");
      s = await open(dataDir, watchDir, diagnoser);
      await s.start();
      const status = async (name: string) =>
        (await pool.query<{ status: string }>('SELECT status FROM images WHERE file_name = $1', [name]))
          .rows[0]?.status;
      await until(
        'the backlog stored the second photo',
        async () => (await status('PA_L_second.jpg')) !== undefined,
      );
      await s.engine.idle();
      // Time for a wrong diagnosis to start; a pause here can only let a wrong engine pass, never fail a right one.
      await new Promise((r) => setTimeout(r, 1000));
      expect(diagnoser.calls).toBe(0);
      expect(await status('PA_L_second.jpg')).toBe('pending');
      await blocker.query('ROLLBACK');
      await until('the queue written', () => s.engine.status().database.waiting === 0);
      await s.engine.idle();
      const rows = (
        await pool.query<{ file_name: string; status: string; diagnoses: number }>(
          `SELECT i.file_name, i.status, (SELECT count(*) FROM diagnoses d WHERE d.image_id = i.id) AS diagnoses
           FROM images i ORDER BY i.file_name`,
        )
      ).rows;
      expect(rows).toEqual([
        { file_name: 'PA_L_second.jpg', status: 'done', diagnoses: 1 },
        { file_name: 'PZ_L_first.jpg', status: 'done', diagnoses: 1 },
      ]);
      expect(diagnoser.calls).toBe(0);
      expect(s.engine.status().error).toBeNull();
    } finally {
      await blocker.query('ROLLBACK').catch(() => undefined);
      blocker.release();
      await pool.end();
      await s.stop();
    }
  }, 120_000);
});
