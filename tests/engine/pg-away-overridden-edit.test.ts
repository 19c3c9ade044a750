import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { RecordDetail } from '../../common/contract.ts';
import { createServices, type Services } from '../../main/services.ts';
import { createPool } from '../../main/store/pg-pool.ts';
import { FakeDiagnoser } from './helpers/fake-diagnoser.ts';
import { removeDir, syntheticJpeg, tempDir } from './helpers/fs-helpers.ts';
import { captureLog } from './helpers/log-capture.ts';
import { describePostgres, postgresPerFile } from './helpers/postgres-per-file.ts';

/**
 * A patient edit kept in a room's local queue while the server was away, written once it is back after
 * another room edited that record meanwhile: the newer values stay on the record, and the older edit joins
 * the audit trail (image_edits) at its own time, marked not applied; a replay of the queue adds nothing.
 */
const { logger, until } = captureLog();
const server = postgresPerFile('overridden');
const dirs: string[] = [];
afterAll(() => {
  dirs.forEach(removeDir);
});

/** A room's folders, and its services while open (stopped at the end whatever happened). */
const running = new Set<Services>();
function room(name: string) {
  const dataDir = tempDir(`${name}-data`);
  const watchDir = tempDir(`${name}-watch`);
  dirs.push(dataDir, watchDir);
  return {
    dataDir,
    watchDir,
    async open(): Promise<Services> {
      const s = await createServices({
        dataDir,
        watchDir,
        dbPath: server.url('overridden'),
        dbPasswordFile: server.passwordFile,
        diagnoser: new FakeDiagnoser(),
        stabilityMs: 100,
        logger,
      });
      running.add(s);
      return s;
    },
  };
}
async function close(s: Services): Promise<void> {
  running.delete(s);
  await s.stop();
}

const pause = () => new Promise((r) => setTimeout(r, 5)); // distinct times

/** The record and its patient edits, straight from the server, in time order (the id breaks ties). */
async function history() {
  const pool = createPool({ url: server.url('overridden'), passwordFile: server.passwordFile, max: 1 });
  try {
    const images = (
      await pool.query<{ id: number; patient_id: string | null; ear: string }>(
        'SELECT id, patient_id, ear FROM images ORDER BY id',
      )
    ).rows;
    const edits = (
      await pool.query<{
        field: string;
        old_value: string | null;
        new_value: string | null;
        created_at: string;
        applied: boolean;
      }>(
        `SELECT field, old_value, new_value, created_at, applied FROM image_edits
         WHERE field IN ('patient_id', 'ear') ORDER BY created_at, id`,
      )
    ).rows;
    return { images, edits };
  } finally {
    await pool.end();
  }
}

describePostgres('A queued patient edit that a newer edit overrides', () => {
  it('joins the audit trail at its own time, not applied, and a replay adds nothing', async () => {
    const roomA = room('room-a');
    const outbox = path.join(roomA.dataDir, 'outbox.sqlite');
    const snapshot = path.join(tempDir('overridden-snap'), 'outbox.sqlite');
    dirs.push(path.dirname(snapshot));
    try {
      let a = await roomA.open();
      await a.start();
      writeFileSync(path.join(roomA.watchDir, 'P1_L.jpg'), await syntheticJpeg(971));
      await until('photo diagnosed', () => a.engine.status().done === 1);
      const [record] = (await history()).images;
      expect(record).toMatchObject({ patient_id: 'P1', ear: 'left' });
      const id = record!.id;

      // Room A, server up: P1 → P5, written at once.
      expect(await a.call('records.updatePatient', { id, patientId: 'P5', ear: 'left' })).toMatchObject({
        ok: true,
        value: { record: { patientId: 'P5' } },
      });
      await pause();
      // Room A, server away: P9 / right, kept locally; then room A is closed before the server is back.
      await server.stopServer();
      const queued = await a.call('records.updatePatient', { id, patientId: 'P9', ear: 'right' });
      expect(queued).toMatchObject({ ok: true, value: { savedLocally: true } });
      const at = (queued as { value: { at: string } }).value.at;
      await close(a);
      for (const ext of ['', '-wal'])
        if (existsSync(outbox + ext)) copyFileSync(outbox + ext, snapshot + ext);
      await server.startServer();
      await pause();

      // Room B, meanwhile: P7 / unknown, later than room A's.
      const b = await room('room-b').open();
      await b.start();
      expect(await b.call('records.updatePatient', { id, patientId: 'P7', ear: 'unknown' })).toMatchObject({
        ok: true,
        value: { record: { patientId: 'P7', ear: 'unknown' } },
      });
      await close(b);
      const before = await history();
      const [first, ...newer] = before.edits;
      expect(first).toMatchObject({ field: 'patient_id', old_value: 'P1', new_value: 'P5', applied: true });
      expect(first!.created_at < at).toBe(true);
      expect(newer.every((e) => e.created_at > at)).toBe(true);

      // Room A back: its queued edit is written after room B's, but is the older one.
      a = await roomA.open();
      await a.start();
      await until('queue written', () => a.engine.status().database.waiting === 0);
      await a.engine.idle();
      const h = await history();
      expect(h.images).toEqual([{ id, patient_id: 'P7', ear: 'unknown' }]);
      // In time order: room A's edit between its earlier one and room B's, from the values then in force.
      expect(h.edits).toEqual([
        first,
        { field: 'patient_id', old_value: 'P5', new_value: 'P9', created_at: at, applied: false },
        { field: 'ear', old_value: 'left', new_value: 'right', created_at: at, applied: false },
        ...newer,
      ]);
      expect(newer).toEqual([
        expect.objectContaining({ field: 'patient_id', old_value: 'P5', new_value: 'P7', applied: true }),
        expect.objectContaining({ field: 'ear', old_value: 'left', new_value: 'unknown', applied: true }),
      ]);
      // Detail lists it the same way, said not applied.
      const shown = await a.call('records.get', { id });
      expect(shown.ok).toBe(true);
      const trail = (shown as { value: RecordDetail }).value.patientEdits ?? [];
      expect(trail.map((e) => [e.field, e.from, e.to, e.applied])).toEqual([
        ['patientId', 'P1', 'P5', true],
        ['patientId', 'P5', 'P9', false],
        ['ear', 'left', 'right', false],
        ['patientId', 'P5', 'P7', true],
        ['ear', 'left', 'unknown', true],
      ]);
      await close(a);

      // As after a crash between the write and the entry's removal: the queue once more.
      for (const ext of ['', '-wal'])
        if (existsSync(snapshot + ext)) copyFileSync(snapshot + ext, outbox + ext);
      a = await roomA.open();
      expect(a.engine.status().database.waiting).toBe(1);
      await a.start();
      await until('replayed', () => a.engine.status().database.waiting === 0);
      await a.engine.idle();
      expect(await history()).toEqual(h);
    } finally {
      await server.startServer().catch(() => undefined);
      for (const s of running) await close(s);
    }
  }, 120_000);
});
