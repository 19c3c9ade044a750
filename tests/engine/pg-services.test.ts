import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_FILE_NAME_PATTERN, type EngineEvent } from '../../common/contract.ts';
import { createServices, type Services } from '../../main/services.ts';
import { createPool, pgClientConfig, redactUrl } from '../../main/store/pg-pool.ts';
import { PgStore } from '../../main/store/pg-store.ts';
import type { Logger } from '../../main/util/logger.ts';
import { FakeDiagnoser } from './helpers/fake-diagnoser.ts';
import { removeDir, syntheticJpeg, tempDir } from './helpers/fs-helpers.ts';
import { describePostgres, postgresPerFile } from './helpers/postgres-per-file.ts';

/** Two workstations (engines with their own data folders) on one real PostgreSQL. */
const pg = postgresPerFile('clinic');

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

describePostgres('two workstations on one PostgreSQL', () => {
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
        dbPath: pg.url('clinic'),
        dbPasswordFile: pg.passwordFile,
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
      const secret = (await import('node:fs')).readFileSync(pg.passwordFile, 'utf8').trim();
      expect(lines.join('\n')).not.toContain(secret);
      expect(lines.some((l) => l.includes('PostgreSQL'))).toBe(true);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      dirs.forEach(removeDir);
    }
  }, 120_000);

  it("keeps each room's own settings (room 2 moving its watched folder leaves room 1's) and shares the clinic's", async () => {
    pg.createDatabase('rooms');
    const dirs = ['room1', 'room2', 'inbox1', 'inbox2', 'inbox3'].map((d) => tempDir(d));
    const [data1, data2, inbox1, inbox2, inbox3] = dirs as [string, string, string, string, string];
    const open = (dataDir: string, watchDir?: string) =>
      createServices({
        dataDir,
        ...(watchDir ? { watchDir } : {}),
        dbPath: pg.url('rooms'),
        dbPasswordFile: pg.passwordFile,
        diagnoser: new FakeDiagnoser(),
        stabilityMs: 150,
      });
    const [first, b] = await Promise.all([open(data1, inbox1), open(data2, inbox2)]);
    let a = first;
    try {
      expect((await a.store.getSettings()).watchDir).toBe(inbox1);
      expect((await b.store.getSettings()).watchDir).toBe(inbox2);
      expect(
        await b.call('settings.update', {
          watchDir: inbox3,
          fileNamePattern: 'room2_{patient}_{ear}',
          reviewerName: 'dr lee',
        }),
      ).toMatchObject({ ok: true, value: { watchDir: inbox3, reviewerName: 'dr lee' } });
      expect(await a.call('settings.get', {})).toMatchObject({
        ok: true,
        value: { watchDir: inbox1, fileNamePattern: DEFAULT_FILE_NAME_PATTERN, reviewerName: '' },
      });
      expect(a.engine.currentSettings.watchDir).toBe(inbox1);

      // Clinic-wide: a threshold (with its audit trail) and the reports' heading, changed in room 1.
      expect(
        await a.call('settings.changeThreshold', { name: 'eardrum', value: 0.3, changedBy: 'dr kim' }),
      ).toMatchObject({ ok: true });
      expect(await a.call('settings.update', { clinicName: 'Seoul ENT' })).toMatchObject({ ok: true });
      expect(await b.call('settings.get', {})).toMatchObject({
        ok: true,
        value: { thresholds: { eardrum: 0.3 }, clinicName: 'Seoul ENT', watchDir: inbox3 },
      });
      expect((await b.store.settingsChanges()).map((c) => [c.key, c.newValue, c.changedBy])).toEqual([
        ['thresholds.eardrum', 0.3, 'dr kim'],
      ]);

      // Room 1 restarted without --watch (as the desktop app starts): still its own folder, watched.
      await a.stop();
      a = await open(data1);
      await a.start();
      expect(a.engine.currentSettings.watchDir).toBe(inbox1);
      writeFileSync(path.join(inbox1, 'R1_L.jpg'), await syntheticJpeg(21));
      await settled(a, 1);
      const page = await a.store.list({
        filter: {},
        sort: { field: 'fileName', direction: 'asc' },
        offset: 0,
        limit: 5,
      });
      expect(page.items.map((r) => r.originalPath)).toEqual([path.join(inbox1, 'R1_L.jpg')]);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      dirs.forEach(removeDir);
    }
  }, 120_000);

  it("applies the clinic's settings changed in another room at once: its model's threshold and its screens", async () => {
    pg.createDatabase('live_settings');
    const dirs = ['room1', 'room2', 'inbox1', 'inbox2'].map((d) => tempDir(d));
    const [data1, data2, inbox1, inbox2] = dirs as [string, string, string, string];
    const d2 = new FakeDiagnoser();
    const open = (dataDir: string, watchDir: string, diagnoser: FakeDiagnoser) =>
      createServices({
        ...{ dataDir, watchDir, diagnoser, stabilityMs: 150 },
        ...{ dbPath: pg.url('live_settings'), dbPasswordFile: pg.passwordFile },
      });
    const [a, b] = await Promise.all([open(data1, inbox1, new FakeDiagnoser()), open(data2, inbox2, d2)]);
    const events: EngineEvent[] = [];
    b.subscribe((e) => events.push(e));
    try {
      await Promise.all([a.start(), b.start()]);
      const t0 = Date.now();
      await a.call('settings.changeThreshold', { name: 'eardrum', value: 0.35, changedBy: 'dr kim' });
      await a.call('settings.update', { clinicName: 'Busan ENT', reviewerName: 'dr kim' });
      const heard = () =>
        events.some((e) => e.type === 'settings' && e.settings.clinicName === 'Busan ENT') &&
        d2.eardrumThreshold === 0.35;
      while (!heard() && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
      expect(heard()).toBe(true);
      console.log(`room 1's clinic settings applied in room 2 after ${Date.now() - t0} ms`);
      expect(b.engine.currentSettings).toMatchObject({ thresholds: { eardrum: 0.35 }, watchDir: inbox2 });
      // Room 1's own settings stay room 1's.
      expect(b.engine.currentSettings.reviewerName).toBe('');
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      dirs.forEach(removeDir);
    }
  }, 60_000);

  it("gives the settings an earlier version kept for every room to the first room to start, the clinic's to all", async () => {
    pg.createDatabase('legacy');
    const connect = { url: pg.url('legacy'), passwordFile: pg.passwordFile };
    const openAs = (workstation: string) =>
      PgStore.open(createPool({ ...connect, applicationName: workstation }), pg.url('legacy'), {
        workstation,
        listenConfig: pgClientConfig(connect),
      });
    const first = await openAs('room-1');
    // What a version before the split left: every setting in the clinic's table.
    await first.pool.query(
      `INSERT INTO settings (key, value, updated_at) VALUES
           ('watchDir', '"/exams/room1"', 'then'), ('usePolling', 'true', 'then'),
           ('clinicName', '"Old Clinic"', 'then')`,
    );
    await first.close();
    const room1 = await openAs('room-1');
    const room2 = await openAs('room-2');
    try {
      expect(await room1.getSettings()).toMatchObject({
        watchDir: '/exams/room1',
        usePolling: true,
        clinicName: 'Old Clinic',
      });
      expect(await room2.getSettings()).toMatchObject({
        watchDir: '',
        usePolling: false,
        clinicName: 'Old Clinic',
      });
      const left = await room1.pool.query<{ key: string }>('SELECT key FROM settings');
      expect(left.rows.map((r) => r.key)).toEqual(['clinicName']);
    } finally {
      await Promise.all([room1.close(), room2.close()]);
    }
  });
});
