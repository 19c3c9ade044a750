/**
 * Two exam rooms as shipped (two `eardrum serve` children with the real model, one PostgreSQL, one shared
 * library) while the server restarts in the middle of a 200-photo burst dropped into both rooms' folders:
 * both rooms say the database is unreachable, keep diagnosing into their local queues, write them once it
 * is back, and the history ends with each photo once, diagnosed once, the same on both rooms' boards and
 * event streams (issue 12's acceptance).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineStatus, RecordSummary } from '../../common/contract.ts';
import { createPool } from '../../main/store/pg-pool.ts';
import { removeDir, syntheticJpeg, tempDir } from './helpers/fs-helpers.ts';
import {
  POSTGRES_SKIP_REASON,
  postgresMissing,
  startPostgres,
  type TestPostgres,
} from './helpers/postgres.ts';
import { call, openRoom, spawnRoom, type Room } from './helpers/serve-rooms.ts';

let server: TestPostgres | null = null;
beforeAll(async () => {
  if (!postgresMissing) {
    server = await startPostgres();
    server.createDatabase('clinic');
  }
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

const PHOTOS = 200;
/** Written before the server stops; the rest of the burst arrives while it is down. */
const BEFORE_STOP = 70;
/** How long the server stays down at least (both rooms must have noticed before it comes back). */
const DOWN_MS = 3000;

async function until(ok: () => Promise<boolean>, timeoutMs: number, stepMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

const status = async (r: Room) => (await call<{ engine: EngineStatus }>(r, 'app.info')).engine;

async function board(r: Room): Promise<{ total: number; items: [number, string, string][] }> {
  const items: [number, string, string][] = [];
  let total = 0;
  for (let offset = 0; offset === 0 || offset < total; offset += 200) {
    const page = await call<{ total: number; items: RecordSummary[] }>(r, 'records.list', {
      sort: { field: 'fileName', direction: 'asc' },
      offset,
      limit: 200,
    });
    total = page.total;
    items.push(...page.items.map((i): [number, string, string] => [i.id, i.fileName, i.status]));
  }
  return { total, items };
}

describe.skipIf(postgresMissing)(
  `two serve processes and a PostgreSQL restart${postgresMissing ? ` (skipped: ${POSTGRES_SKIP_REASON})` : ''}`,
  () => {
    it('loses and duplicates nothing of a 200-photo burst when the server restarts in its middle', async () => {
      const dirs = {
        data1: tempDir('outage-room1-data'),
        data2: tempDir('outage-room2-data'),
        inbox1: tempDir('outage-room1-inbox'),
        inbox2: tempDir('outage-room2-inbox'),
        library: tempDir('outage-library'),
      };
      const inboxes = [dirs.inbox1, dirs.inbox2];
      const spawned = [
        spawnRoom('room 1', { dataDir: dirs.data1, watch: dirs.inbox1, ...where() }),
        spawnRoom('room 2', { dataDir: dirs.data2, watch: dirs.inbox2, ...where() }),
      ];
      function where() {
        return { library: dirs.library, dbUrl: server!.url('clinic'), dbPasswordFile: server!.passwordFile };
      }
      const sql = createPool({ url: server!.url('clinic'), passwordFile: server!.passwordFile, max: 1 });
      const t0 = Date.now();
      const log: string[] = [];
      const mark = (m: string) => log.push(`[${Date.now() - t0} ms] ${m}`);
      const rooms: Room[] = [];
      const explain = () => `${log.join('\n')}\n${rooms.map((r) => `--- ${r.name}\n${r.out()}`).join('\n')}`;
      const photos = await Promise.all(Array.from({ length: PHOTOS }, (_, i) => syntheticJpeg(i)));
      const names = photos.map((_, i) => `P${String(i).padStart(3, '0')}_${i % 2 ? 'R' : 'L'}_20261130.jpg`);
      // Alternately into each room's folder, a few milliseconds apart, as two otoscopes in a busy hour.
      const drop = async (from: number, to: number) => {
        for (let i = from; i < to; i++) {
          writeFileSync(path.join(inboxes[i % 2]!, names[i]!), photos[i]!);
          await new Promise((r) => setTimeout(r, 5));
        }
      };
      try {
        for (const s of spawned) rooms.push(await openRoom(s));
        mark('both rooms serving');
        await drop(0, BEFORE_STOP);
        await until(
          async () => (await Promise.all(rooms.map(status))).reduce((n, s) => n + s.done, 0) >= 20,
          60_000,
          20,
        );
        await server!.stopServer();
        const stoppedAt = Date.now();
        mark('server stopped');
        await drop(BEFORE_STOP, PHOTOS);
        mark('burst written');
        // Both rooms say so, and keep what they admit and diagnose meanwhile in their local queues.
        for (const r of rooms)
          await until(async () => (await status(r)).database.state === 'unreachable', 30_000, 50).catch(
            (err: Error) => {
              throw new Error(`${r.name} never said unreachable: ${err.message}\n${explain()}`);
            },
          );
        mark('both rooms unreachable');
        const downStates = await Promise.all(rooms.map(status));
        for (const s of downStates) expect(s.database.since).not.toBeNull();
        await new Promise((r) => setTimeout(r, Math.max(0, stoppedAt + DOWN_MS - Date.now())));
        await server!.startServer();
        mark('server started');

        await until(
          async () => {
            const all = await Promise.all(rooms.map(status));
            const settled = all.every(
              (s) =>
                s.database.state === 'connected' && s.database.waiting === 0 && s.queued + s.processing === 0,
            );
            if (!settled) return false;
            const n = await sql.query<{ done: number }>(
              "SELECT count(*)::int AS done FROM images WHERE status = 'done'",
            );
            return n.rows[0]!.done >= PHOTOS;
          },
          120_000,
          100,
        ).catch((err: Error) => {
          throw new Error(`not caught up: ${err.message}\n${explain()}`);
        });
        mark('both rooms caught up');

        const [h] = (
          await sql.query(
            `SELECT count(*)::int AS records, count(DISTINCT original_path)::int AS files,
               count(DISTINCT sha256)::int AS photos, count(*) FILTER (WHERE status = 'done')::int AS done,
               (SELECT count(*)::int FROM diagnoses) AS diagnoses,
               (SELECT count(DISTINCT image_id)::int FROM diagnoses) AS diagnosed,
               count(*) FILTER (WHERE EXISTS (SELECT 1 FROM diagnoses d WHERE d.id = i.diagnosis_id AND d.image_id = i.id))::int AS current,
               (SELECT count(*)::int FROM photo_claims) AS claims
             FROM images i`,
          )
        ).rows;
        expect(h, explain()).toEqual({
          records: PHOTOS,
          files: PHOTOS,
          photos: PHOTOS,
          done: PHOTOS,
          diagnoses: PHOTOS,
          diagnosed: PHOTOS,
          current: PHOTOS,
          claims: 0,
        });
        // Both rooms' boards show the same 200 records, all done.
        const boards = await Promise.all(rooms.map(board));
        expect(boards[0]!.total).toBe(PHOTOS);
        expect(boards[0]!.items.map(([, n]) => n)).toEqual([...names].sort());
        expect(boards[0]!.items.every(([, , st]) => st === 'done')).toBe(true);
        expect(boards[1]).toEqual(boards[0]);
        // Each room's event stream announced every record once done, its own and the other room's, those
        // the other room wrote while this room's listener was reconnecting included.
        const ids = boards[0]!.items.map(([id]) => id);
        for (const r of rooms) {
          const announced = new Set(r.events.flatMap((x) => (x.e.type === 'done' ? [x.e.record.id] : [])));
          const missing = ids.filter((id) => !announced.has(id));
          expect(missing, `${r.name} never announced ${missing.length} records\n${explain()}`).toEqual([]);
        }
        console.log(`${log.join('; ')}`);

        for (const r of rooms) {
          r.stopEvents();
          r.child.kill('SIGTERM');
          expect(await r.exited, r.out()).toBe(0);
        }
      } finally {
        await server!.startServer().catch(() => undefined);
        for (const s of spawned) if (s.child.exitCode === null) s.child.kill('SIGKILL');
        await sql.end();
        Object.values(dirs).forEach(removeDir);
      }
    }, 300_000);
  },
);
