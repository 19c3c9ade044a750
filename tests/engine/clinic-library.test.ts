/**
 * The shared library folder in Settings → Clinic database, on a real PostgreSQL that already holds a room's
 * photo: "Test connection" finds that photo in the right folder and tells the wrong share, a missing folder
 * and a mistyped path; "Use at next start" saves the folder with the server; the next start uses it (and
 * shows the other room's photo); `--library` still wins, another `--db` does not inherit it, and a saved
 * folder that is gone stops the start with a sentence instead of quietly using the private library.
 */
import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServices, type Services } from '../../main/services.ts';
import { readDbConfig } from '../../main/store/db-config.ts';
import { readPasswordFile } from '../../main/store/pg-pool.ts';
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
const dirs: string[] = [];
const dir = (prefix: string) => {
  const d = tempDir(prefix);
  dirs.push(d);
  return d;
};

beforeAll(async () => {
  if (postgresMissing) return;
  pg = await startPostgres();
  pg.createDatabase('clinic');
  password = readPasswordFile(pg.passwordFile);
}, 60_000);
afterAll(async () => {
  await pg?.stop();
  for (const d of dirs) removeDir(d);
});

const open = (
  dataDir: string,
  extra: { dbPath?: string; libraryDir?: string; dbPasswordFile?: string } = {},
) =>
  createServices({
    dataDir,
    watchDir: dir('inbox'),
    diagnoser: new FakeDiagnoser(),
    stabilityMs: 100,
    ...extra,
  });

async function call(s: Services, channel: string, args: unknown) {
  return (await s.call(channel, args)) as {
    ok: boolean;
    value?: Record<string, unknown>;
    error?: { code: string; message: string };
  };
}

describe.skipIf(postgresMissing)(
  `the shared library folder in Settings${postgresMissing ? ` (skipped: ${POSTGRES_SKIP_REASON})` : ''}`,
  () => {
    it('is checked against the database’s photos, saved with the server, and used at the next start', async () => {
      const library = dir('clinic-library');
      // Room 1 stores a photo in the clinic's library, started from the command line.
      const room1 = await open(dir('room1'), {
        dbPath: pg!.url('clinic'),
        dbPasswordFile: pg!.passwordFile,
        libraryDir: library,
      });
      await room1.start();
      writeFileSync(path.join(room1.engine.currentSettings.watchDir!, 'P1_L.jpg'), await syntheticJpeg(5));
      const end = Date.now() + 30_000;
      while ((await room1.store.counts()).done < 1 && Date.now() < end)
        await new Promise((r) => setTimeout(r, 50));
      expect((await room1.store.counts()).done).toBe(1);
      await room1.stop();

      const dataDir = dir('room2');
      let s = await open(dataDir);
      const url = pg!.url('clinic');
      try {
        const wrongShare = dir('empty-mount');
        const failures = {
          [wrongShare]: 'library.wrong_share',
          [path.join(wrongShare, 'not-mounted')]: 'library.missing',
        };
        for (const [folder, code] of Object.entries(failures))
          expect(await call(s, 'database.test', { url, password, library: folder })).toMatchObject({
            ok: false,
            error: { code, message: expect.stringContaining(folder) },
          });
        expect(await call(s, 'database.test', { url, password, library: 'relative/share' })).toMatchObject({
          ok: false,
          error: {
            code: 'invalid_args',
            message: expect.stringMatching(/library: a folder path given in full/),
          },
        });
        expect(await call(s, 'database.test', { url, password, library })).toMatchObject({
          ok: true,
          value: { schema: 'current', library: { dir: library, photos: 'found' } },
        });
        expect(await call(s, 'database.test', { url, password })).toMatchObject({
          ok: true,
          value: { library: null },
        });
        // Not saved while the folder is wrong: the next start would stop on it.
        expect(
          await call(s, 'database.use', { kind: 'postgres', url, password, library: wrongShare }),
        ).toMatchObject({ ok: false, error: { code: 'library.wrong_share' } });
        expect(readDbConfig(dataDir)).toBeNull();
        expect(await call(s, 'database.use', { kind: 'postgres', url, password, library })).toMatchObject({
          ok: true,
          value: {
            library: {
              current: { dir: path.join(dataDir, 'library'), shared: false },
              source: 'default',
              next: { dir: library, shared: true },
            },
          },
        });
      } finally {
        await s.stop();
      }

      // The next start: the clinic's history with its library, so room 1's photo shows here.
      s = await open(dataDir);
      try {
        expect([s.dbSource, s.librarySource, s.library.root, s.library.shared]).toEqual([
          'saved',
          'saved',
          library,
          true,
        ]);
        const first = await s.store.row(1);
        expect(await s.library.resolve(first!.stored_path!)).not.toBeNull();
      } finally {
        await s.stop();
      }
      const elsewhere = dir('other-library');
      s = await open(dataDir, { libraryDir: elsewhere });
      expect([s.librarySource, s.library.root]).toEqual(['command_line', elsewhere]);
      await s.stop();
      s = await open(dataDir, { dbPath: path.join(dataDir, 'eardrum.sqlite') });
      expect([s.librarySource, s.library.shared]).toEqual(['default', false]);
      await s.stop();

      // The share is gone at the next start: said, with where it was chosen, and nothing else opened.
      renameSync(library, `${library}-unmounted`);
      dirs.push(`${library}-unmounted`);
      const failed = await open(dataDir).catch((e: Error) => e);
      expect(failed).toMatchObject({
        name: 'EngineError',
        code: 'not_found',
        message: expect.stringMatching(
          /library folder .* missing.*chosen in Settings → Clinic database.*--library/,
        ),
      });
    }, 90_000);
  },
);
