/**
 * Two exam rooms as shipped (two `eardrum serve` children with the real model, one PostgreSQL, one shared
 * library) while the server restarts in the middle of a 200-photo burst dropped into both rooms' folders:
 * both rooms say the database is unreachable, keep diagnosing into their local queues, write them once it
 * is back, and the history ends with each photo once, diagnosed once, the same on both rooms' boards and
 * event streams (issue 12's acceptance). Then both rooms watch one folder and the server restarts again
 * mid-burst: while it is down both rooms admit and diagnose the same files, and each still ends as one
 * record with one diagnosis.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import type { EngineStatus, RecordSummary } from '../../common/contract.ts';
import { createPool } from '../../main/store/pg-pool.ts';
import { removeDir, syntheticJpeg, tempDir } from './helpers/fs-helpers.ts';
import { describePostgres, postgresPerFile } from './helpers/postgres-per-file.ts';
import { call, openRoom, spawnRoom, type Room } from './helpers/serve-rooms.ts';

const server = postgresPerFile('clinic');

const PHOTOS = 200;
/** Then both rooms watch one network folder, and this many more arrive there around a second restart. */
const SHARED = 30;
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

describePostgres('two serve processes and a PostgreSQL restart', () => {
  it('loses and duplicates nothing of a 200-photo burst when the server restarts in its middle', async () => {
    const dirs = {
      data1: tempDir('outage-room1-data'),
      data2: tempDir('outage-room2-data'),
      inbox1: tempDir('outage-room1-inbox'),
      inbox2: tempDir('outage-room2-inbox'),
      shared: tempDir('outage-shared-inbox'),
      library: tempDir('outage-library'),
    };
    const where = {
      library: dirs.library,
      dbUrl: server.url('clinic'),
      dbPasswordFile: server.passwordFile,
    };
    const spawned = [
      spawnRoom('room 1', { dataDir: dirs.data1, watch: dirs.inbox1, ...where }),
      spawnRoom('room 2', { dataDir: dirs.data2, watch: dirs.inbox2, ...where }),
    ];
    const sql = createPool({ url: server.url('clinic'), passwordFile: server.passwordFile, max: 1 });
    const t0 = Date.now();
    const log: string[] = [];
    const mark = (m: string) => log.push(`[${Date.now() - t0} ms] ${m}`);
    const rooms: Room[] = [];
    const explain = () => `${log.join('\n')}\n${rooms.map((r) => `--- ${r.name}\n${r.out()}`).join('\n')}`;
    const total = PHOTOS + SHARED;
    const photos = await Promise.all(Array.from({ length: total }, (_, i) => syntheticJpeg(i)));
    const names = photos.map((_, i) => `P${String(i).padStart(3, '0')}_${i % 2 ? 'R' : 'L'}_20261130.jpg`);
    /** Why a wait ran out: both rooms' status and the records not done, with their claims. */
    const stuck = (what: string) => async (err: Error) => {
      const undone = await sql.query(
        `SELECT i.id, i.file_name, i.status, i.primary_id, c.claimed_by, c.expires_at < now() AS expired
           FROM images i LEFT JOIN photo_claims c ON c.image_id = i.id WHERE i.status <> 'done' ORDER BY i.id`,
      );
      const states = await Promise.all(rooms.map(status));
      const detail = `${JSON.stringify(states)}\n${JSON.stringify(undone.rows)}`;
      throw new Error(`${what}: ${err.message}\n${detail}\n${explain()}`);
    };
    const doneInDb = async () =>
      (await sql.query<{ n: number }>("SELECT count(*)::int AS n FROM images WHERE status = 'done'")).rows[0]!
        .n;

    /**
     * Drops photos `from`..`to` a few milliseconds apart (as otoscopes in a busy hour) and stops the server
     * once the first third is written and a third of it done; the rest arrives while it is down. Starts it
     * again once both rooms said it was unreachable and it was down DOWN_MS; resolves when both rooms are
     * connected with nothing waiting and all are done.
     */
    async function burstAcrossRestart(folderOf: (i: number) => string, from: number, to: number) {
      const drop = async (a: number, b: number) => {
        for (let i = a; i < b; i++) {
          writeFileSync(path.join(folderOf(i), names[i]!), photos[i]!);
          await new Promise((r) => setTimeout(r, 5));
        }
      };
      const cut = from + Math.round((to - from) / 3);
      await drop(from, cut);
      await until(async () => (await doneInDb()) >= from + Math.ceil((cut - from) / 3), 60_000, 20).catch(
        stuck('first photos'),
      );
      await server.stopServer();
      const stoppedAt = Date.now();
      mark(`server stopped, ${to - cut} photos still to come`);
      await drop(cut, to);
      // Both rooms say so, and keep what they admit and diagnose meanwhile in their local queues.
      for (const r of rooms)
        await until(async () => (await status(r)).database.state === 'unreachable', 30_000, 50).catch(
          (err: Error) => {
            throw new Error(`${r.name} never said unreachable: ${err.message}\n${explain()}`);
          },
        );
      mark('both rooms unreachable');
      for (const s of await Promise.all(rooms.map(status))) expect(s.database.since).not.toBeNull();
      await new Promise((r) => setTimeout(r, Math.max(0, stoppedAt + DOWN_MS - Date.now())));
      await server.startServer();
      mark('server started');
      await until(
        async () => {
          const all = await Promise.all(rooms.map(status));
          const settled = all.every(
            (s) =>
              s.database.state === 'connected' && s.database.waiting === 0 && s.queued + s.processing === 0,
          );
          return settled && (await doneInDb()) >= to;
        },
        120_000,
        100,
      ).catch(stuck('not caught up'));
      mark('both rooms caught up');
    }

    /** One record, one photo, one diagnosis for each of the first `n` files, all done, both rooms agreeing. */
    async function expectEachOnce(n: number): Promise<void> {
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
        records: n,
        files: n,
        photos: n,
        done: n,
        diagnoses: n,
        diagnosed: n,
        current: n,
        claims: 0,
      });
      const boards = await Promise.all(rooms.map(board));
      expect(boards[0]!.total).toBe(n);
      expect(boards[0]!.items.map(([, f]) => f)).toEqual(names.slice(0, n).sort());
      expect(boards[0]!.items.every(([, , st]) => st === 'done')).toBe(true);
      expect(boards[1]).toEqual(boards[0]);
      // Each room's event stream announced every record once done, its own and the other room's, those
      // the other room wrote while this room's listener was reconnecting included (the last ones written
      // may still be on their way: other rooms' results arrive within 2 s).
      const ids = boards[0]!.items.map(([id]) => id);
      for (const r of rooms) {
        const missing = () => {
          const announced = new Set(r.events.flatMap((x) => (x.e.type === 'done' ? [x.e.record.id] : [])));
          return ids.filter((id) => !announced.has(id));
        };
        await until(async () => missing().length === 0, 5000, 50).catch(() => undefined);
        expect(missing(), `${r.name} never announced ${missing().length} records\n${explain()}`).toEqual([]);
      }
    }

    try {
      for (const s of spawned) rooms.push(await openRoom(s));
      mark('both rooms serving');
      // Alternately into each room's own folder.
      await burstAcrossRestart((i) => (i % 2 ? dirs.inbox2 : dirs.inbox1), 0, PHOTOS);
      await expectEachOnce(PHOTOS);

      // One network folder watched by both rooms.
      for (const r of rooms) await call(r, 'settings.update', { watchDir: dirs.shared });
      await burstAcrossRestart(() => dirs.shared, PHOTOS, total);
      await expectEachOnce(total);
      console.log(log.join('; '));

      for (const r of rooms) {
        r.stopEvents();
        r.child.kill('SIGTERM');
        expect(await r.exited, r.out()).toBe(0);
      }
    } finally {
      await server.startServer().catch(() => undefined);
      for (const s of spawned) if (s.child.exitCode === null) s.child.kill('SIGKILL');
      await sql.end();
      Object.values(dirs).forEach(removeDir);
    }
  }, 300_000);
});
