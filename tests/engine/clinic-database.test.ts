/**
 * Settings → Clinic database against a real PostgreSQL (initdb in a temporary folder): "Test connection"
 * names each cause (wrong password, no such database, nothing listening, a newer schema), "Use at next
 * start" saves the choice and the next start opens that history, `--db` still wins, a saved server that is
 * down stops the start with a sentence instead of opening another history, and the password never shows in
 * an answer, a log line, the config file, the SQLite file or the CSV.
 */
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as runExport } from '../../main/cli/export.ts';
import { writeCsv } from '../../main/export/csv-export.ts';
import { createServices, type Services } from '../../main/services.ts';
import { testConnection } from '../../main/store/db-check.ts';
import { DB_CONFIG_FILE, writeDbConfig } from '../../main/store/db-config.ts';
import { createPool, readPasswordFile } from '../../main/store/pg-pool.ts';
import type { Logger } from '../../main/util/logger.ts';
import { FakeDiagnoser } from './helpers/fake-diagnoser.ts';
import { removeDir, syntheticJpeg, tempDir } from './helpers/fs-helpers.ts';
import {
  POSTGRES_SKIP_REASON,
  postgresMissing,
  startPostgres,
  type TestPostgres,
} from './helpers/postgres.ts';

let pg: TestPostgres | null = null;
let password = '';
const lines: string[] = [];
const logger: Logger = {
  info: (m) => lines.push(m),
  warn: (m) => lines.push(m),
  error: (m) => lines.push(m),
};
/** Every answer given, to look for the password in them all at the end. */
const answers: string[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  if (postgresMissing) return;
  pg = await startPostgres();
  pg.createDatabase('clinic');
  pg.createDatabase('newer');
  password = readPasswordFile(pg.passwordFile);
}, 60_000);
afterAll(async () => {
  await pg?.stop();
  for (const d of dirs) removeDir(d);
});

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function open(dataDir: string, watchDir: string, extra: { dbPath?: string } = {}): Promise<Services> {
  return createServices({
    dataDir,
    watchDir,
    diagnoser: new FakeDiagnoser(),
    stabilityMs: 150,
    logger,
    ...extra,
  });
}

async function call(s: Services, channel: string, args: unknown) {
  const r = await s.call(channel, args);
  answers.push(JSON.stringify(r));
  return r as { ok: boolean; value?: Record<string, unknown>; error?: { code: string; message: string } };
}

describe.skipIf(postgresMissing)(
  `Settings → Clinic database on a real PostgreSQL${postgresMissing ? ` (skipped: ${POSTGRES_SKIP_REASON})` : ''}`,
  () => {
    it('"Test connection" tells a wrong password, a missing database, no server and a newer schema apart', async () => {
      const wrong = await testConnection(pg!.url('clinic'), 'not-the-password').catch((e: Error) => e);
      expect(wrong).toMatchObject({ code: 'database.wrong_password' });
      const none = await testConnection(pg!.url('clinic'), '').catch((e: Error) => e);
      expect(none).toMatchObject({ code: 'database.wrong_password' });
      const missing = await testConnection(pg!.url('nosuchdb'), password).catch((e: Error) => e);
      expect(missing).toMatchObject({ code: 'database.missing' });
      const down = await testConnection(
        `postgres://eardrum@127.0.0.1:${await closedPort()}/clinic`,
        password,
      ).catch((e: Error) => e);
      expect(down).toMatchObject({
        code: 'database.unreachable',
        message: expect.stringMatching(/No PostgreSQL answers/),
      });
      const ok = await testConnection(pg!.url('clinic'), password);
      expect(ok).toMatchObject({
        database: { kind: 'postgres', host: '127.0.0.1', database: 'clinic', user: 'eardrum' },
        serverVersion: expect.stringMatching(/^\d+(\.\d+)*$/),
        schema: 'empty',
      });
      // A schema from a newer app: said before anything is saved or migrated.
      const client = createPool({ url: pg!.url('newer'), password, max: 1 });
      await client.query(
        `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT, checksum TEXT, applied_at TEXT);
         INSERT INTO schema_migrations VALUES (999, 'future', 'x', 'now')`,
      );
      await client.end();
      const newer = await testConnection(pg!.url('newer'), password).catch((e: Error) => e);
      expect(newer).toMatchObject({
        code: 'database.schema_newer',
        message: expect.stringMatching(/schema 999/),
      });
      for (const e of [wrong, none, missing, down, newer])
        expect(String((e as Error).message)).not.toContain(password);
    }, 60_000);

    it('saves the choice for the next start, which opens the clinic database; --db still wins; back to the workstation’s', async () => {
      const dataDir = tempDir('room');
      const watchDir = tempDir('inbox');
      dirs.push(dataDir, watchDir);
      let s = await open(dataDir, watchDir);
      try {
        expect((await call(s, 'database.status', {})).value).toMatchObject({
          current: { kind: 'sqlite', file: path.join(dataDir, 'eardrum.sqlite') },
          source: 'default',
          next: { kind: 'sqlite' },
          passwordKept: 'file',
        });
        // One line only: the password file keeps the first line, so "a\nb" would become "a" at the next start.
        expect(
          await call(s, 'database.test', { url: pg!.url('clinic'), password: `${password}\nx` }),
        ).toMatchObject({
          ok: false,
          error: { code: 'invalid_args', message: expect.stringMatching(/password: a password on one line/) },
        });
        const refused = await call(s, 'database.use', {
          kind: 'postgres',
          url: pg!.url('clinic'),
          password: 'nope',
        });
        expect(refused).toMatchObject({ ok: false, error: { code: 'database.wrong_password' } });
        expect(existsSync(path.join(dataDir, DB_CONFIG_FILE))).toBe(false);
        expect(await call(s, 'database.test', { url: pg!.url('clinic'), password })).toMatchObject({
          ok: true,
          value: { schema: 'empty' },
        });
        const used = await call(s, 'database.use', { kind: 'postgres', url: pg!.url('clinic'), password });
        expect(used).toMatchObject({
          ok: true,
          value: {
            current: { kind: 'sqlite' },
            next: { kind: 'postgres', database: 'clinic', user: 'eardrum' },
            passwordFile: path.join(dataDir, 'database-password'),
          },
        });
        if (process.platform !== 'win32')
          expect(statSync(path.join(dataDir, 'database-password')).mode & 0o777).toBe(0o600);
        // The choice is not a setting of the history: nothing in the audited settings changed.
        expect((await call(s, 'settings.changes', {})).value).toEqual([]);
      } finally {
        await s.stop();
      }

      s = await open(dataDir, watchDir);
      try {
        expect(s.dbSource).toBe('saved');
        expect(lines).toContain(
          'database chosen in Settings → Clinic database (database.json; --db overrides it)',
        );
        expect((await call(s, 'database.status', {})).value).toMatchObject({
          current: { kind: 'postgres', database: 'clinic' },
          source: 'saved',
        });
        await s.start();
        writeFileSync(path.join(watchDir, 'DB1_L.jpg'), await syntheticJpeg(71));
        const end = Date.now() + 30_000;
        while ((await s.store.counts()).done < 1 && Date.now() < end)
          await new Promise((r) => setTimeout(r, 50));
        expect((await s.store.counts()).done).toBe(1);
        const csv = new PassThrough();
        let text = '';
        csv.on('data', (d: Buffer) => (text += d.toString()));
        await writeCsv(s.store, csv, {
          filter: {},
          sort: { field: 'capturedAt', direction: 'asc' },
          language: 'en',
        });
        expect(text).toContain('DB1_L.jpg');
        answers.push(text);
      } finally {
        await s.stop();
      }
      // `eardrum export --data-dir` reads the same history as a start would, with the kept password.
      const csvFile = path.join(dataDir, 'out.csv');
      expect(await runExport(['--out', csvFile, '--data-dir', dataDir])).toBe(0);
      expect(readFileSync(csvFile, 'utf8')).toContain('DB1_L.jpg');
      // The record went to the clinic's history, not to this workstation's file.
      const client = createPool({ url: pg!.url('clinic'), password, max: 1 });
      expect((await client.query<{ n: number }>('SELECT count(*)::int AS n FROM images')).rows[0]!.n).toBe(1);
      await client.end();

      s = await open(dataDir, watchDir, { dbPath: path.join(dataDir, 'eardrum.sqlite') });
      try {
        expect(s.dbSource).toBe('command_line');
        expect((await s.store.counts()).total).toBe(0);
        const back = await call(s, 'database.use', { kind: 'sqlite' });
        expect(back.value).toMatchObject({ next: { kind: 'sqlite' } });
        expect(existsSync(path.join(dataDir, DB_CONFIG_FILE))).toBe(false);
        expect(existsSync(path.join(dataDir, 'database-password'))).toBe(false);
      } finally {
        await s.stop();
      }
      for (const f of readdirSync(dataDir).filter((n) => n.startsWith('eardrum.sqlite')))
        expect(readFileSync(path.join(dataDir, f)).includes(password)).toBe(false);
    }, 90_000);

    it('stops the start with a clear sentence when the saved server is down, opening no other history', async () => {
      const dataDir = tempDir('room-down');
      dirs.push(dataDir);
      const { filePasswordKeeper } = await import('../../main/store/db-password.ts');
      const url = `postgres://eardrum@127.0.0.1:${await closedPort()}/clinic`;
      writeDbConfig(dataDir, { url, password: filePasswordKeeper(dataDir).save(password) });
      const failed = await open(dataDir, tempDir('inbox-down')).catch((e: Error) => e);
      expect(failed).toMatchObject({
        code: 'database.unreachable',
        message: expect.stringMatching(
          /chosen in Settings .*cannot be opened.*does not switch to its own database/,
        ),
      });
      expect(existsSync(path.join(dataDir, 'eardrum.sqlite'))).toBe(false);
      // The data folder was released: a start with --db works at once.
      const s = await open(dataDir, tempDir('inbox-down2'), { dbPath: path.join(dataDir, 'eardrum.sqlite') });
      await s.stop();
    }, 60_000);

    it('never shows the password in an answer, a log line or the config file', () => {
      expect(answers.length).toBeGreaterThan(5);
      expect(lines.length).toBeGreaterThan(0);
      for (const a of answers) expect(a).not.toContain(password);
      for (const l of lines) expect(l).not.toContain(password);
      for (const d of dirs.filter((x) => existsSync(path.join(x, DB_CONFIG_FILE))))
        expect(readFileSync(path.join(d, DB_CONFIG_FILE), 'utf8')).not.toContain(password);
    });
  },
);
