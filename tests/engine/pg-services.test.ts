import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../common/contract.ts';
import { createServices, type Services } from '../../main/services.ts';
import { createPool, redactUrl } from '../../main/store/pg-pool.ts';
import type { Logger } from '../../main/util/logger.ts';
import { FakeDiagnoser } from './helpers/fake-diagnoser.ts';
import { removeDir, syntheticJpeg, tempDir } from './helpers/fs-helpers.ts';
import {
  POSTGRES_SKIP_REASON,
  postgresMissing,
  startPostgres,
  type TestPostgres,
} from './helpers/postgres.ts';

/** Two workstations (engines with their own data folders) on one real PostgreSQL. */
let pg: TestPostgres | null = null;
beforeAll(async () => {
  if (!postgresMissing) {
    pg = await startPostgres();
    pg.createDatabase('clinic');
  }
}, 60_000);
afterAll(async () => {
  await pg?.stop();
});

async function settled(s: Services, n: number, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const c = await s.store.counts();
    if (c.done + c.failed >= n && c.pending === 0) break;
    if (Date.now() > end)
      throw new Error(
        `${n} records not settled within ${timeoutMs} ms: ${JSON.stringify(c)} ${JSON.stringify(s.engine.status())}`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
  await s.engine.idle();
}

describe('PostgreSQL connection settings', () => {
  it('refuses a password in the URL, and never shows one', () => {
    expect(() => createPool({ url: 'postgres://eardrum:s3cret@db.lan:5432/clinic' })).toThrow(
      /password in a file/,
    );
    expect(redactUrl('postgres://eardrum:s3cret@db.lan:5432/clinic')).toBe(
      'postgres://eardrum@db.lan:5432/clinic',
    );
  });
});

describe.skipIf(postgresMissing)(
  `two workstations on one PostgreSQL${postgresMissing ? ` (skipped: ${POSTGRES_SKIP_REASON})` : ''}`,
  () => {
    it('starts both together (migrations under a lock), shares one history and one audit trail, stores a shared photo once', async () => {
      const lines: string[] = [];
      const logger: Logger = {
        info: (m) => lines.push(m),
        warn: (m) => lines.push(m),
        error: (m) => lines.push(m),
      };
      const dirs = [tempDir('room1'), tempDir('room2'), tempDir('inbox1'), tempDir('inbox2')];
      const open = (dataDir: string, watchDir: string) =>
        createServices({
          dataDir,
          watchDir,
          dbPath: pg!.url('clinic'),
          dbPasswordFile: pg!.passwordFile,
          diagnoser: new FakeDiagnoser(),
          stabilityMs: 150,
          logger,
        });
      const [a, b] = await Promise.all([open(dirs[0]!, dirs[2]!), open(dirs[1]!, dirs[3]!)]);
      try {
        const events: EngineEvent[] = [];
        b.subscribe((e) => events.push(e));
        await Promise.all([a.start(), b.start()]);
        writeFileSync(path.join(dirs[2]!, 'R1_L.jpg'), await syntheticJpeg(11));
        writeFileSync(path.join(dirs[3]!, 'R2_R.jpg'), await syntheticJpeg(12));
        // The same photo in both rooms' folders: one stored copy, the other room's file a further source of it.
        const shared = await syntheticJpeg(13);
        writeFileSync(path.join(dirs[2]!, 'S1_L.jpg'), shared);
        writeFileSync(path.join(dirs[3]!, 'S1_L.jpg'), shared);
        await settled(a, 4).catch((e) => {
          throw new Error(`${(e as Error).message}\n${lines.join('\n')}`);
        });
        await settled(b, 4);
        const page = await b.store.list({
          filter: {},
          sort: { field: 'fileName', direction: 'asc' },
          offset: 0,
          limit: 10,
        });
        expect(page.items.map((r) => r.fileName)).toEqual(['R1_L.jpg', 'R2_R.jpg', 'S1_L.jpg', 'S1_L.jpg']);
        expect(page.items.every((r) => r.status === 'done')).toBe(true);
        const s1 = page.items.filter((r) => r.fileName === 'S1_L.jpg');
        const detail = (await a.store.detail(s1[0]!.id))!;
        expect(detail.samePhoto!.map((r) => r.id)).toEqual([s1[1]!.id]);
        expect(detail.diagnosis).not.toBeNull();

        // Reviews from both rooms land in one audit trail.
        const r1 = page.items[0]!.id;
        expect(
          await a.call('reviews.add', {
            recordId: r1,
            action: 'confirm',
            note: 'room 1',
            reviewer: 'dr kim',
          }),
        ).toMatchObject({ ok: true });
        expect(
          await b.call('reviews.add', {
            recordId: r1,
            action: 'override',
            label: 'aom',
            note: 'room 2',
            reviewer: 'dr lee',
          }),
        ).toMatchObject({ ok: true });
        const got = await a.call('records.get', { id: r1 });
        expect(
          got.ok && (got.value as { reviews: { reviewer: string }[] }).reviews.map((r) => r.reviewer),
        ).toEqual(['dr kim', 'dr lee']);
        const secret = (await import('node:fs')).readFileSync(pg!.passwordFile, 'utf8').trim();
        expect(lines.join('\n')).not.toContain(secret);
        expect(lines.some((l) => l.includes('PostgreSQL'))).toBe(true);
      } finally {
        await Promise.all([a.stop(), b.stop()]);
        dirs.forEach(removeDir);
      }
    }, 120_000);
  },
);
