import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import type { EngineEvent } from '../../common/contract.ts';
import { ImageLibrary } from '../../main/library/library.ts';
import { createServices, type Services } from '../../main/services.ts';
import { createPool } from '../../main/store/pg-pool.ts';
import { ClaimTakenError } from '../../main/store/pg-shared.ts';
import type { Logger } from '../../main/util/logger.ts';
import { FakeDiagnoser } from './helpers/fake-diagnoser.ts';
import { removeDir, syntheticJpeg, tempDir, waitFor } from './helpers/fs-helpers.ts';
import { describePostgres, postgresPerFile } from './helpers/postgres-per-file.ts';

/**
 * Rooms on one PostgreSQL, in one process: other rooms' results and reviews heard through LISTEN/NOTIFY
 * (also after the server restarts), images from a shared library folder, and claims on the photos' jobs
 * (a dead room's photo taken over once its lease has run out, never before).
 */
const server = postgresPerFile();
let dbCount = 0;

interface Room {
  s: Services;
  inbox: string;
  events: { at: number; e: EngineEvent }[];
  lines: string[];
  diagnoser: FakeDiagnoser;
}

async function openRooms(n: number, o: { claimLeaseMs?: number } = {}) {
  const db = `rooms_${++dbCount}`;
  server.createDatabase(db);
  const library = tempDir('shared-library');
  const dirs = [library];
  const rooms: Room[] = [];
  for (let i = 0; i < n; i++) {
    const dataDir = tempDir(`room${i}`);
    const inbox = tempDir(`inbox${i}`);
    dirs.push(dataDir, inbox);
    const lines: string[] = [];
    const logger: Logger = {
      info: (m) => lines.push(m),
      warn: (m) => lines.push(m),
      error: (m) => lines.push(m),
    };
    const diagnoser = new FakeDiagnoser();
    const s = await createServices({
      dataDir,
      watchDir: inbox,
      dbPath: server.url(db),
      dbPasswordFile: server.passwordFile,
      libraryDir: library,
      diagnoser,
      stabilityMs: 100,
      logger,
      ...o,
    });
    const events: Room['events'] = [];
    s.subscribe((e) => events.push({ at: Date.now(), e }));
    rooms.push({ s, inbox, events, lines, diagnoser });
  }
  return {
    rooms,
    library,
    db,
    close: async () => {
      await Promise.all(rooms.map((r) => r.s.stop()));
      dirs.forEach(removeDir);
    },
  };
}

async function firstEvent(r: Room, pred: (e: EngineEvent) => boolean, timeoutMs = 30_000) {
  try {
    return await waitFor(() => r.events.find((x) => pred(x.e)), timeoutMs, 10);
  } catch (err) {
    const seen = r.events.map((x) => x.e.type).join(' ');
    throw new Error(`${(err as Error).message}; events: ${seen}\n${r.lines.join('\n')}`);
  }
}

const doneFor = (id: number) => (e: EngineEvent) => e.type === 'done' && e.record.id === id;

describePostgres('rooms on one PostgreSQL', () => {
  it('hears the other rooms’ results and reviews within 2 s, its own once, and shows their images from the shared library', async () => {
    const { rooms, close } = await openRooms(2);
    const [a, b] = rooms as [Room, Room];
    try {
      await Promise.all([a.s.start(), b.s.start()]);
      await waitFor(() => b.lines.includes('live updates from the other rooms: listening'), 20_000, 10);
      writeFileSync(path.join(a.inbox, 'P1_L.jpg'), await syntheticJpeg(21));
      const doneA = await firstEvent(a, (e) => e.type === 'done');
      const id = (doneA.e as { record: { id: number } }).record.id;
      const doneB = await firstEvent(b, doneFor(id));
      const latency = doneB.at - doneA.at;
      console.log(`room 1's result on room 2's event stream ${latency} ms after room 1's own`);
      expect(latency).toBeLessThan(2000);
      expect(b.diagnoser.calls).toBe(0);

      // Room 2 shows room 1's photo, thumbnail and heatmap: the library folder is the same.
      const row = (await b.s.store.row(id))!;
      for (const rel of [row.stored_path, row.thumb_path, row.overlay_path])
        expect(await b.s.library.resolve(rel ?? ''), String(rel)).not.toBeNull();

      // A review made in room 2 reaches room 1's views.
      const sent = Date.now();
      expect(
        await b.s.call('reviews.add', {
          recordId: id,
          action: 'override',
          label: 'aom',
          note: 'room 2',
          reviewer: 'dr lee',
        }),
      ).toMatchObject({ ok: true });
      const updated = await firstEvent(
        a,
        (e) => e.type === 'record.updated' && e.record.id === id && e.record.reviewedLabel === 'aom',
      );
      expect(updated.at - sent).toBeLessThan(2000);

      // Room 2's own photo: announced once there (locally), not again when its own notification arrives.
      writeFileSync(path.join(b.inbox, 'P2_R.jpg'), await syntheticJpeg(22));
      const own = await firstEvent(b, (e) => e.type === 'done' && e.record.fileName === 'P2_R.jpg');
      const ownId = (own.e as { record: { id: number } }).record.id;
      await firstEvent(a, doneFor(ownId));
      await new Promise((r) => setTimeout(r, 300));
      expect(b.events.filter((x) => doneFor(ownId)(x.e))).toHaveLength(1);
      expect(a.events.filter((x) => doneFor(ownId)(x.e))).toHaveLength(1);
    } finally {
      await close();
    }
  }, 120_000);

  it('keeps hearing the other rooms after the server restarts', async () => {
    const { rooms, close } = await openRooms(2);
    const [a, b] = rooms as [Room, Room];
    const listening = () =>
      b.lines.filter((l) => l === 'live updates from the other rooms: listening').length;
    try {
      await Promise.all([a.s.start(), b.s.start()]);
      await waitFor(() => listening() === 1, 20_000, 10);
      await server.restart();
      await waitFor(() => listening() === 2, 15_000, 20);
      expect(b.lines.some((l) => l.startsWith('live updates from the other rooms paused'))).toBe(true);
      writeFileSync(path.join(a.inbox, 'P3_L.jpg'), await syntheticJpeg(23));
      const doneA = await firstEvent(a, (e) => e.type === 'done');
      const id = (doneA.e as { record: { id: number } }).record.id;
      const doneB = await firstEvent(b, doneFor(id));
      expect(doneB.at - doneA.at).toBeLessThan(2000);
    } finally {
      await close();
    }
  }, 120_000);

  it('takes over a dead room’s photo once its claim has expired, not before, and refuses a late answer', async () => {
    const { rooms, library, db, close } = await openRooms(1, { claimLeaseMs: 600 });
    const [b] = rooms as [Room];
    const sql = createPool({ url: server.url(db), passwordFile: server.passwordFile });
    const deadDir = tempDir('dead-room');
    try {
      // What a room that died mid-photo leaves: the copy in the shared library, a pending record, its claim.
      const bytes = await syntheticJpeg(24);
      const sha = (await import('node:crypto')).createHash('sha256').update(bytes).digest('hex');
      const stored = ImageLibrary.originalPath(sha, '.jpg');
      const deadLib = new ImageLibrary(deadDir, undefined, {
        root: library,
        workstation: 'dead-room',
      });
      await deadLib.init();
      await deadLib.put(stored, bytes);
      const { id } = await b.s.store.insertImage({
        sha256: sha,
        fileName: 'D1_L.jpg',
        originalPath: '/elsewhere/D1_L.jpg',
        source: 'watch',
        storedPath: stored,
        thumbPath: null,
        sizeBytes: bytes.length,
        width: 64,
        height: 64,
        format: 'jpeg',
        capturedAt: new Date().toISOString(),
        captureSource: 'mtime',
        patientId: 'D1',
        ear: 'left',
        patientSource: 'pattern',
      });
      // The model's answer made first: the claim must still be live when it is written below.
      const answer = await b.diagnoser.diagnose(bytes);
      const claim = await sql.query<{ expires: string }>(
        `INSERT INTO photo_claims (image_id, claimed_by, claimed_at, heartbeat_at, expires_at)
           VALUES ($1, 'dead-room', now(), now(), now() + interval '3000 milliseconds')
           RETURNING extract(epoch FROM expires_at) * 1000 AS expires`,
        [id],
      );
      const expiresAt = Number(claim.rows[0]!.expires);
      // An answer written while another room's claim is live is refused, and changes nothing.
      await expect(b.s.store.commitDiagnosis(id, answer, null)).rejects.toBeInstanceOf(ClaimTakenError);
      expect((await b.s.store.row(id))!.status).toBe('pending');
      b.diagnoser.calls = 0;
      // When room 2's model first gets the photo: only after room 2's own claim, which the server grants once
      // the dead room's has expired (in the server's time, on this machine's clock).
      let diagnosedAt: number | null = null;
      const diagnose = b.diagnoser.diagnose.bind(b.diagnoser);
      b.diagnoser.diagnose = (x) => {
        diagnosedAt ??= Date.now();
        return diagnose(x);
      };

      await b.s.start();
      // As long as the dead room's claim is there, room 2 leaves the photo alone: the record, the claim and
      // the model's calls (counted before the query) seen together, not after a fixed pause that a slow start
      // on a busy machine could outlast.
      const look = async () => {
        const calls = b.diagnoser.calls;
        const r = await sql.query<{ status: string; dead: boolean; live: boolean }>(
          `SELECT i.status, c.claimed_by IS NOT DISTINCT FROM 'dead-room' AS dead,
             coalesce(c.expires_at > now(), false) AS live
           FROM images i LEFT JOIN photo_claims c ON c.image_id = i.id WHERE i.id = $1`,
          [id],
        );
        return { calls, ...r.rows[0]! };
      };
      let whileLive = 0;
      for (const end = Date.now() + 15_000; ;) {
        const seen = await look();
        if (seen.dead) {
          expect(seen).toMatchObject({ status: 'pending', calls: 0 });
          if (seen.live) whileLive++;
        }
        if (seen.status === 'done') break;
        if (Date.now() > end) throw new Error(`not taken over: ${b.lines.join('\n')}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      console.log(`room 2 left the live claim alone over ${whileLive} looks`);
      expect(diagnosedAt).toBeGreaterThanOrEqual(Math.floor(expiresAt));
      expect(b.diagnoser.calls).toBe(1);
      const r = await sql.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM diagnoses WHERE image_id = $1',
        [id],
      );
      expect(r.rows[0]!.n).toBe(1);
      // The claim ended with the answer.
      expect((await sql.query('SELECT 1 FROM photo_claims WHERE image_id = $1', [id])).rowCount).toBe(0);
    } finally {
      await sql.end();
      removeDir(deadDir);
      await close();
    }
  }, 120_000);
});
