import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { createServices, type Services } from '../../main/services.ts';
import { PG_LATEST_SCHEMA_VERSION } from '../../main/store/pg-migrations.ts';
import { createPool } from '../../main/store/pg-pool.ts';
import { FakeDiagnoser } from './helpers/fake-diagnoser.ts';
import { removeDir, syntheticJpeg, tempDir } from './helpers/fs-helpers.ts';
import { captureLog } from './helpers/log-capture.ts';
import { describePostgres, postgresPerFile } from './helpers/postgres-per-file.ts';

/**
 * A start while the server is away (issue 12, item 5): a workstation that worked on this PostgreSQL before
 * starts with the settings it last used, watches and diagnoses into its local queue, and once the server
 * answers runs the migrations and writes the queue. One that never reached it, or a refused password, a
 * newer schema, still stops the start with its reason.
 */
const { lines, logger, until } = captureLog();
const server = postgresPerFile('away', 'other');
const dirs: string[] = [];
afterAll(() => {
  dirs.forEach(removeDir);
});

function dir(prefix: string): string {
  const d = tempDir(prefix);
  dirs.push(d);
  return d;
}

function open(
  db: string,
  dataDir: string,
  o: { watchDir?: string; passwordFile?: string } = {},
): Promise<Services> {
  return createServices({
    dataDir,
    ...(o.watchDir ? { watchDir: o.watchDir } : {}),
    dbPath: server.url(db),
    dbPasswordFile: o.passwordFile ?? server.passwordFile,
    diagnoser: new FakeDiagnoser(),
    stabilityMs: 100,
    logger,
  });
}

async function sql<T extends Record<string, unknown>>(db: string, text: string): Promise<T[]> {
  const pool = createPool({ url: server.url(db), passwordFile: server.passwordFile, max: 1 });
  try {
    return (await pool.query<T>(text)).rows;
  } finally {
    await pool.end();
  }
}

describePostgres('Starting while PostgreSQL is away', () => {
  it('refuses a first start on a server it never reached, saying why', async () => {
    await server.stopServer();
    try {
      const dataDir = dir('away-first');
      const failed = await open('away', dataDir).catch((e: Error) => e);
      expect(failed).toMatchObject({
        code: 'database.unreachable',
        message: expect.stringMatching(/No PostgreSQL answers.*has not worked on this database before/),
      });
    } finally {
      await server.startServer();
    }
  }, 60_000);

  it('starts on a server it worked on before, queues while away, then migrates and writes once back', async () => {
    const dataDir = dir('away-data');
    const watchDir = dir('away-watch');
    let s = await open('away', dataDir, { watchDir });
    await s.start();
    await s.stop();
    // This version's last migrations undone on the server, as if the workstation were updated meanwhile.
    await sql(
      'away',
      // (Migration 6 marks each record with the transaction that last changed it; 7 notifies settings changes;
      // 8 keeps the last other writer's change; 9 tells a patient edit not applied.)
      `DROP TRIGGER settings_notify ON settings; DROP FUNCTION eardrum_notify_settings();
         DROP TRIGGER images_mark_insert ON images; DROP TRIGGER images_mark_update ON images;
         DROP FUNCTION eardrum_mark_change();
         ALTER TABLE images DROP COLUMN change_xid, DROP COLUMN status_xid, DROP COLUMN changed_by,
           DROP COLUMN prior_xid, DROP COLUMN prior_by;
         ALTER TABLE image_edits DROP COLUMN applied;
         DELETE FROM schema_migrations WHERE version IN (6, 7, 8, 9); DELETE FROM models`,
    );
    await server.stopServer();
    try {
      // Another database than the one it worked on is a first connection: refused.
      const other = await open('other', dataDir).catch((e: Error) => e);
      expect(other).toMatchObject({ message: expect.stringMatching(/it last worked on .*\/away/) });

      const t0 = Date.now();
      s = await open('away', dataDir);
      await s.start();
      const startMs = Date.now() - t0;
      lines.push(`started away in ${startMs} ms`);
      expect(s.engine.status().database).toMatchObject({ state: 'unreachable', waiting: 0 });
      expect(s.engine.status().database.since).not.toBeNull();
      expect(s.engine.status().watching).toBe(true);
      expect(await s.call('settings.get', {})).toMatchObject({ ok: true, value: { watchDir } });
      expect(await s.call('records.list', {})).toMatchObject({
        ok: false,
        error: { code: 'database_unreachable' },
      });
      for (let i = 0; i < 10; i++)
        writeFileSync(path.join(watchDir, `A${i}_R.jpg`), await syntheticJpeg(500 + i));
      await until('10 diagnosed into the queue', () => {
        const st = s.engine.status();
        return st.done === 10 && st.database.waiting === 10;
      });
      expect(s.engine.status().database.state).toBe('unreachable');
    } finally {
      await server.startServer();
    }
    await until('written once back', () => {
      const db = s.engine.status().database;
      return db.state === 'connected' && db.waiting === 0;
    });
    await s.engine.idle();
    const [h] = await sql<{
      records: number;
      done: number;
      diagnoses: number;
      migrated: number;
      models: number;
    }>(
      'away',
      `SELECT (SELECT count(*) FROM images) AS records, (SELECT count(*) FROM images WHERE status = 'done') AS done,
           (SELECT count(*) FROM diagnoses) AS diagnoses, (SELECT max(version) FROM schema_migrations) AS migrated,
           (SELECT count(*) FROM models) AS models`,
    );
    expect(h).toEqual({
      records: 10,
      done: 10,
      diagnoses: 10,
      migrated: PG_LATEST_SCHEMA_VERSION,
      models: 1,
    });
    // The migration ran again before the queue was written: every record written once back is marked.
    expect(await sql('away', 'SELECT count(*) AS n FROM images WHERE change_xid IS NOT NULL')).toEqual([
      { n: 10 },
    ]);
    expect(await s.call('records.list', {})).toMatchObject({ ok: true, value: { total: 10 } });
    await s.stop();
  }, 90_000);

  it('still stops a start that meets a refused password or a newer schema', async () => {
    const dataDir = dir('away-refused');
    const s = await open('away', dataDir);
    await s.stop();
    const wrong = path.join(dir('away-pw'), 'password');
    writeFileSync(wrong, 'not-the-password\n', { mode: 0o600 });
    const refused = (await open('away', dataDir, { passwordFile: wrong }).catch((e: Error) => e)) as Error;
    expect(refused.message).toMatch(/password authentication failed/);
    await sql('away', `INSERT INTO schema_migrations VALUES (99, 'future', 'x', 'now')`);
    try {
      const newer = (await open('away', dataDir).catch((e: Error) => e)) as Error;
      expect(newer.message).toMatch(/newer than this version knows/);
    } finally {
      await sql('away', 'DELETE FROM schema_migrations WHERE version = 99');
    }
  }, 60_000);
});
