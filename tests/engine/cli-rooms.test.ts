/**
 * Two exam rooms as shipped: two `eardrum serve` child processes with the real model, each with its own data
 * folder and watched folder, on one real PostgreSQL and one shared library folder. Photos dropped in either
 * room reach the other's board and event stream (within 2 s), reviews from both land in one audit trail,
 * and a folder both rooms watch gives each photo one record and one diagnosis.
 */
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { createPool } from '../../main/store/pg-pool.ts';
import { removeDir, tempDir, waitFor } from './helpers/fs-helpers.ts';
import { describePostgres, postgresPerFile } from './helpers/postgres-per-file.ts';
import { distinctDatasetImages } from './helpers/real-model.ts';
import { call, doneEvent, idOf, openRoom, spawnRoom, type Room } from './helpers/serve-rooms.ts';

const server = postgresPerFile('clinic');

const LEASE_MS = 3000;

describePostgres('two serve processes on one PostgreSQL', () => {
  it('shows each room’s photos on the other’s board and event stream, keeps one audit trail, and diagnoses a folder both watch once', async () => {
    const dirs = {
      data1: tempDir('room1-data'),
      data2: tempDir('room2-data'),
      inbox1: tempDir('room1-inbox'),
      inbox2: tempDir('room2-inbox'),
      shared: tempDir('clinic-share-inbox'),
      library: tempDir('clinic-library'),
    };
    const rooms: Room[] = [];
    const sql = createPool({ url: server.url('clinic'), passwordFile: server.passwordFile });
    const room = (name: string, dataDir: string, watch: string) =>
      spawnRoom(name, {
        dataDir,
        watch,
        library: dirs.library,
        dbUrl: server.url('clinic'),
        dbPasswordFile: server.passwordFile,
        // A short claim lease, so that a room killed below is noticed in seconds rather than 30 s.
        env: { EARDRUM_CLAIM_LEASE_MS: String(LEASE_MS) },
      });
    const started = [room('room 1', dirs.data1, dirs.inbox1), room('room 2', dirs.data2, dirs.inbox2)];
    try {
      for (const s of started) rooms.push(await openRoom(s));
      const [r1, r2] = rooms as [Room, Room];
      const images = distinctDatasetImages(9);

      // A photo in each room's own folder: on its own stream, then on the other room's within 2 s.
      copyFileSync(images[0]!.file, path.join(dirs.inbox1, 'A1_L_20261130.jpg'));
      copyFileSync(images[1]!.file, path.join(dirs.inbox2, 'B1_R_20261130.jpg'));
      const latencies: number[] = [];
      for (const [own, other, file] of [
        [r1, r2, 'A1_L_20261130.jpg'],
        [r2, r1, 'B1_R_20261130.jpg'],
      ] as const) {
        const local = await doneEvent(own, file);
        const remote = await doneEvent(other, file, 10_000);
        expect(idOf(remote)).toBe(idOf(local));
        latencies.push(remote.at - local.at);
      }
      console.log(`a result on the other room's event stream after ${latencies.join(' and ')} ms`);
      for (const ms of latencies) expect(ms).toBeLessThan(2000);

      // Both boards show both photos, diagnosed; room 2 serves room 1's thumbnail from the shared library.
      for (const r of rooms) {
        const page = await call<{ items: { fileName: string; status: string; id: number }[] }>(
          r,
          'records.list',
          { sort: { field: 'fileName', direction: 'asc' } },
        );
        expect(page.items.map((i) => [i.fileName, i.status])).toEqual([
          ['A1_L_20261130.jpg', 'done'],
          ['B1_R_20261130.jpg', 'done'],
        ]);
      }
      const a1 = idOf(await doneEvent(r1, 'A1_L_20261130.jpg'));
      const thumbs = await Promise.all(
        rooms.map(async (r) => {
          const res = await fetch(`${r.base}/files/thumbnail/${a1}`, {
            headers: { Authorization: `Bearer ${r.token}` },
          });
          expect(res.status, r.name).toBe(200);
          return Buffer.from(await res.arrayBuffer());
        }),
      );
      expect(thumbs[0]!.length).toBeGreaterThan(100);
      expect(thumbs[1]!.equals(thumbs[0]!)).toBe(true);

      // Reviews from both rooms on one record: one audit trail, and each review on the other's stream.
      const b1 = idOf(await doneEvent(r2, 'B1_R_20261130.jpg'));
      await call(r1, 'reviews.add', {
        recordId: b1,
        action: 'confirm',
        note: 'room 1',
        reviewer: 'dr kim',
      });
      await waitFor(
        () => r2.events.some((x) => x.e.type === 'record.updated' && x.e.record.id === b1),
        5000,
        20,
      );
      await call(r2, 'reviews.add', {
        recordId: b1,
        action: 'confirm',
        note: 'room 2',
        reviewer: 'dr lee',
      });
      for (const r of rooms) {
        const detail = await call<{ reviews: { reviewer: string; note: string }[] }>(r, 'records.get', {
          id: b1,
        });
        expect(detail.reviews.map((v) => [v.reviewer, v.note])).toEqual([
          ['dr kim', 'room 1'],
          ['dr lee', 'room 2'],
        ]);
      }

      // One network folder watched by both rooms: each photo one record, one diagnosis.
      for (const r of rooms) await call(r, 'settings.update', { watchDir: dirs.shared });
      for (const r of rooms)
        expect((await call<{ watchDir: string }>(r, 'app.info')).watchDir, r.name).toBe(dirs.shared);
      const sharedNames = ['S1_L_20261130.jpg', 'S2_R_20261130.jpg', 'S3_L_20261130.jpg'];
      sharedNames.forEach((n, i) => copyFileSync(images[2 + i]!.file, path.join(dirs.shared, n)));
      for (const r of rooms) for (const n of sharedNames) await doneEvent(r, n);
      const rows = await sql.query<{ file_name: string; records: number; diagnoses: number }>(
        `SELECT i.file_name, count(DISTINCT i.id)::int AS records, count(d.id)::int AS diagnoses
           FROM images i LEFT JOIN diagnoses d ON d.image_id = i.id
           WHERE i.original_path LIKE $1 GROUP BY i.file_name ORDER BY i.file_name`,
        [`${dirs.shared}%`],
      );
      expect(rows.rows).toEqual(sharedNames.map((n) => ({ file_name: n, records: 1, diagnoses: 1 })));
      // The model ran once per photo, in whichever room claimed it.
      const processing = rooms.flatMap((r) =>
        r.events.filter((x) => x.e.type === 'processing' && x.e.path.startsWith(dirs.shared)),
      );
      expect(processing).toHaveLength(sharedNames.length);
      expect((await sql.query('SELECT * FROM photo_claims')).rows).toEqual([]);

      // Room 1 dies (SIGKILL) while its own folder's burst is being diagnosed: room 2 diagnoses the photos
      // room 1 had claimed once their lease has run out, each once.
      await call(r1, 'settings.update', { watchDir: dirs.inbox1 });
      const burst = ['K1_L_20261130.jpg', 'K2_R_20261130.jpg', 'K3_L_20261130.jpg', 'K4_R_20261130.jpg'];
      burst.forEach((n, i) => copyFileSync(images[5 + i]!.file, path.join(dirs.inbox1, n)));
      await waitFor(
        () => r1.events.find((x) => x.e.type === 'processing' && burst.includes(path.basename(x.e.path))),
        120_000,
        5,
      );
      r1.child.kill('SIGKILL');
      expect(await r1.exited).toBeNull();
      // Room 1 is gone: its claims will not be renewed, and expire when the server says (its clock is ours).
      const left = await sql.query<{ id: number; claimed_by: string | null; expires: string | null }>(
        `SELECT i.id, c.claimed_by, extract(epoch FROM c.expires_at) * 1000 AS expires
           FROM images i LEFT JOIN photo_claims c ON c.image_id = i.id
           WHERE i.original_path LIKE $1 AND i.status = 'pending'`,
        [`${dirs.inbox1}%`],
      );
      // At least the photo in the model when room 1 died was left pending, under room 1's claim.
      expect(left.rows.filter((r) => r.claimed_by !== null).length).toBeGreaterThanOrEqual(1);
      for (const { id, claimed_by, expires } of left.rows) {
        const done = await waitFor(
          () => r2.events.find((x) => x.e.type === 'done' && x.e.record.id === id),
          30_000,
          20,
        ).catch((err: Error) => {
          throw new Error(`record ${id} not taken over: ${err.message}\n${r2.out()}`);
        });
        // A claimed photo not before room 1's claim had expired: judged by the claim's own expiry, not by a
        // heartbeat schedule that a busy machine may have stretched before the kill.
        if (claimed_by !== null) expect(done.at).toBeGreaterThanOrEqual(Math.floor(Number(expires)));
      }
      const burstRows = await sql.query<{ status: string; diagnoses: number }>(
        `SELECT i.status, count(d.id)::int AS diagnoses FROM images i LEFT JOIN diagnoses d ON d.image_id = i.id
           WHERE i.original_path LIKE $1 GROUP BY i.id`,
        [`${dirs.inbox1}%`],
      );
      expect(burstRows.rows.every((r) => r.status === 'done' && r.diagnoses === 1)).toBe(true);
      console.log(
        `room 1 killed with ${left.rows.length} of ${burstRows.rows.length} photos undone; room 2 took them over`,
      );

      r2.stopEvents();
      r2.child.kill('SIGTERM');
      expect(await r2.exited, r2.out()).toBe(0);
    } finally {
      for (const s of started) if (s.child.exitCode === null) s.child.kill('SIGKILL');
      await sql.end();
      Object.values(dirs).forEach(removeDir);
    }
  }, 420_000);
});
