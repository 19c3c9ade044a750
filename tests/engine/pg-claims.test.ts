import { expect, it } from 'vitest';
import { createPool, pgClientConfig } from '../../main/store/pg-pool.ts';
import { PgStore } from '../../main/store/pg-store.ts';
import { FAKE_LABELS } from './helpers/fake-diagnoser.ts';
import { describePostgres, postgresPerFile } from './helpers/postgres-per-file.ts';

/**
 * A claim asked for while another room commits the photo's answer: it waits for that commit and is then
 * refused, rather than judging "pending" from before the commit and taking an answered photo (two rooms
 * writing their queued answers for one shared-folder photo after an outage met this, as a second diagnosis
 * refused by the database).
 */
const server = postgresPerFile('claims');

describePostgres('claims on PostgreSQL', () => {
  it('refuses a claim that waited for another room’s answer to commit', async () => {
    const url = server.url('claims');
    const open = (workstation: string) => {
      const connect = { url, passwordFile: server.passwordFile, applicationName: workstation, max: 4 };
      return PgStore.open(createPool(connect), url, { workstation, listenConfig: pgClientConfig(connect) });
    };
    const [a, b] = await Promise.all([open('room 1'), open('room 2')]);
    a.setLabels(FAKE_LABELS);
    const { id } = await a.insertImage({
      sha256: 'a'.repeat(64),
      fileName: 'S1_L.jpg',
      originalPath: '/share/S1_L.jpg',
      source: 'watch',
      storedPath: 'originals/aa/a.jpg',
      thumbPath: null,
      sizeBytes: 1000,
      width: 640,
      height: 480,
      format: 'jpeg',
      capturedAt: '2026-11-30T10:00:00.000Z',
      captureSource: 'mtime',
      patientId: null,
      ear: 'left',
      patientSource: 'none',
    });
    const room1 = await a.pool.connect();
    try {
      expect(await a.shared!.claimPhoto(id, 30_000)).toBe(true);
      // Room 1 commits its answer as the record stage does: the photo's row locked, its claim ended.
      await room1.query('BEGIN');
      await room1.query('SELECT id FROM images WHERE id = $1 FOR UPDATE', [id]);
      await room1.query('DELETE FROM photo_claims WHERE image_id = $1', [id]);
      await room1.query("UPDATE images SET status = 'done' WHERE id = $1", [id]);
      const claim = b.shared!.claimPhoto(id, 30_000);
      let settled = false;
      void claim.then(() => (settled = true));
      await new Promise((r) => setTimeout(r, 300));
      expect(settled).toBe(false); // waits for room 1's commit
      await room1.query('COMMIT');
      expect(await claim).toBe(false);
      expect((await a.pool.query('SELECT * FROM photo_claims')).rows).toEqual([]);
    } finally {
      room1.release();
      await Promise.all([a.close(), b.close()]);
    }
  }, 60_000);
});
