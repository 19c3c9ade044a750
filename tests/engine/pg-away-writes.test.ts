import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { EditSavedLocally, EngineEvent, UploadSavedLocally } from '../../common/contract.ts';
import { createServices, type Services } from '../../main/services.ts';
import { createPool } from '../../main/store/pg-pool.ts';
import { FakeDiagnoser } from './helpers/fake-diagnoser.ts';
import { removeDir, syntheticJpeg, tempDir } from './helpers/fs-helpers.ts';
import { captureLog } from './helpers/log-capture.ts';
import { describePostgres, postgresPerFile } from './helpers/postgres-per-file.ts';

/**
 * Hand uploads, reviews and patient edits while the server is away (issue 12, item 5): each is kept in the
 * local queue and the caller told so; once the server is back they are written in order with their
 * original times and authors, and a replay of the whole queue (a crash before the entries' removal) adds
 * nothing.
 */
const { lines, logger, until } = captureLog();
const server = postgresPerFile('writes');
const dirs: string[] = [];
afterAll(() => {
  dirs.forEach(removeDir);
});

function open(dataDir: string, watchDir: string, diagnoser = new FakeDiagnoser()): Promise<Services> {
  return createServices({
    dataDir,
    watchDir,
    dbPath: server.url('writes'),
    dbPasswordFile: server.passwordFile,
    diagnoser,
    stabilityMs: 100,
    logger,
  });
}

/** What the history holds, read straight from the server. */
async function history() {
  const pool = createPool({ url: server.url('writes'), passwordFile: server.passwordFile, max: 1 });
  const q = async <T extends Record<string, unknown>>(sql: string) => (await pool.query<T>(sql)).rows;
  try {
    return {
      images: await q<{
        id: number;
        file_name: string;
        source: string;
        status: string;
        patient_id: string | null;
        ear: string;
        reviewed_label: string | null;
        last_reviewer: string | null;
        review_count: number;
        answer: string;
      }>(
        `SELECT id, file_name, source, status, patient_id, ear, reviewed_label, last_reviewer, review_count,
           coalesce(model_label, gate) AS answer FROM images ORDER BY id`,
      ),
      diagnoses: (await q<{ n: number }>('SELECT count(*) AS n FROM diagnoses'))[0]!.n,
      reviews: await q<{
        image_id: number;
        action: string;
        label: string;
        reviewer: string;
        created_at: string;
      }>('SELECT image_id, action, label, reviewer, created_at FROM reviews ORDER BY id'),
      edits: await q<{ image_id: number; field: string; new_value: string; created_at: string }>(
        `SELECT image_id, field, new_value, created_at FROM image_edits WHERE field IN ('patient_id', 'ear') ORDER BY id`,
      ),
    };
  } finally {
    await pool.end();
  }
}

describePostgres('Writes while PostgreSQL is away', () => {
  it('keeps a hand upload, reviews and a patient edit locally, writes them in order once back, and a replay adds nothing', async () => {
    const dataDir = tempDir('writes-data');
    const watchDir = tempDir('writes-watch');
    const snapshot = path.join(tempDir('writes-snap'), 'outbox.sqlite');
    const outbox = path.join(dataDir, 'outbox.sqlite');
    dirs.push(dataDir, watchDir, path.dirname(snapshot));
    let s = await open(dataDir, watchDir);
    try {
      await s.start();
      writeFileSync(path.join(watchDir, 'P1_L.jpg'), await syntheticJpeg(901));
      writeFileSync(path.join(watchDir, 'P2_R.jpg'), await syntheticJpeg(902));
      await until('two photos diagnosed', () => s.engine.status().done === 2);
      const [one, two] = (await history()).images;
      await server.stopServer();

      const upload = await s.call('diagnose.upload', {
        fileName: 'by-hand.jpg',
        dataBase64: (await syntheticJpeg(903)).toString('base64'),
        patientId: 'P3',
        ear: 'right',
      });
      expect(upload).toMatchObject({ ok: true, value: { savedLocally: true, fileName: 'by-hand.jpg' } });
      const kept = (upload as { value: UploadSavedLocally }).value;
      expect(kept.answer?.gate).toMatch(/^(eardrum|not_eardrum|ungradable)$/);
      expect(kept.failure).toBeNull();

      const edits: EditSavedLocally[] = [];
      const saved = async (channel: 'reviews.add' | 'records.updatePatient', args: object) => {
        const r = await s.call(channel, args);
        expect(r).toMatchObject({ ok: true, value: { savedLocally: true } });
        edits.push((r as { value: EditSavedLocally }).value);
        await new Promise((res) => setTimeout(res, 5)); // distinct times
      };
      await saved('reviews.add', {
        recordId: one!.id,
        action: 'override',
        label: 'aom',
        reviewer: 'Dr Kim',
        note: 'bulging',
      });
      await saved('records.updatePatient', { id: one!.id, patientId: 'P9', ear: 'right' });
      await saved('reviews.add', { recordId: two!.id, action: 'confirm', reviewer: 'Dr Lee' });
      await saved('reviews.add', {
        recordId: one!.id,
        action: 'override',
        label: 'effusion',
        reviewer: 'Dr Park',
      });
      expect(edits.map((e) => e.recordId)).toEqual([one!.id, one!.id, two!.id, one!.id]);
      expect(s.engine.status().database).toMatchObject({ state: 'unreachable', waiting: 5 });
      for (const ext of ['', '-wal'])
        if (existsSync(outbox + ext)) copyFileSync(outbox + ext, snapshot + ext);

      await server.startServer();
      await until('written once back', () => {
        const db = s.engine.status().database;
        return db.state === 'connected' && db.waiting === 0;
      });
      await s.engine.idle();
      const h = await history();
      expect(h.images).toHaveLength(3);
      expect(h.images[0]).toMatchObject({
        patient_id: 'P9',
        ear: 'right',
        reviewed_label: 'effusion',
        last_reviewer: 'Dr Park',
        review_count: 2,
      });
      expect(h.images[1]).toMatchObject({
        reviewed_label: two!.answer,
        last_reviewer: 'Dr Lee',
        review_count: 1,
      });
      expect(h.images[2]).toMatchObject({
        file_name: 'by-hand.jpg',
        source: 'upload',
        status: 'done',
        patient_id: 'P3',
        ear: 'right',
      });
      expect(h.diagnoses).toBe(3);
      // In the order made, each with the time it was made here and its reviewer.
      expect(h.reviews).toEqual([
        {
          image_id: one!.id,
          action: 'override',
          label: 'aom',
          reviewer: 'Dr Kim',
          created_at: edits[0]!.at,
        },
        {
          image_id: two!.id,
          action: 'confirm',
          label: two!.answer,
          reviewer: 'Dr Lee',
          created_at: edits[2]!.at,
        },
        {
          image_id: one!.id,
          action: 'override',
          label: 'effusion',
          reviewer: 'Dr Park',
          created_at: edits[3]!.at,
        },
      ]);
      expect(h.edits).toEqual([
        { image_id: one!.id, field: 'patient_id', new_value: 'P9', created_at: edits[1]!.at },
        { image_id: one!.id, field: 'ear', new_value: 'right', created_at: edits[1]!.at },
      ]);
      // Written now: a review goes straight to the server again.
      expect(
        await s.call('reviews.add', { recordId: two!.id, action: 'confirm', reviewer: 'Dr Lee' }),
      ).toMatchObject({
        ok: true,
        value: { record: { id: two!.id } },
      });
      await s.stop();

      // As after a crash between the writes and the entries' removal: the whole queue once more.
      for (const ext of ['', '-wal'])
        if (existsSync(snapshot + ext)) copyFileSync(snapshot + ext, outbox + ext);
      s = await open(dataDir, watchDir);
      expect(s.engine.status().database.waiting).toBe(5);
      await s.start();
      await until('replayed', () => s.engine.status().database.waiting === 0);
      await s.engine.idle();
      const again = await history();
      expect(again.images).toEqual(h.images.map((i) => (i.id === two!.id ? { ...i, review_count: 2 } : i)));
      expect(again.diagnoses).toBe(3);
      expect(again.reviews.slice(0, 3)).toEqual(h.reviews);
      expect(again.reviews).toHaveLength(4);
      expect(again.edits).toEqual(h.edits);
    } finally {
      await server.startServer().catch(() => undefined);
      await s.stop();
    }
  }, 120_000);

  it('announces its own answer whose commit reached the server when the reply was lost with the connection', async () => {
    // As when the server stops mid-commit (cli-rooms-outage met it): the answer is written, the room hears
    // 57P01 instead of the reply, keeps the answer locally and, once back, finds it written already. No other
    // room announces it (the listener skips this room's own changes): this room must.
    const dataDir = tempDir('lost-reply-data');
    const watchDir = tempDir('lost-reply-watch');
    dirs.push(dataDir, watchDir);
    const s = await open(dataDir, watchDir);
    const events: EngineEvent[] = [];
    s.subscribe((e) => events.push(e));
    const commit = s.store.commitDiagnosis.bind(s.store);
    let cut = true;
    s.store.commitDiagnosis = async (...args) => {
      await commit(...args);
      if (!cut) return;
      cut = false;
      throw Object.assign(new Error('terminating connection due to administrator command'), {
        code: '57P01',
      });
    };
    try {
      await s.start();
      writeFileSync(path.join(watchDir, 'L1_L.jpg'), await syntheticJpeg(961));
      await until('the reply lost, the queue written', () => {
        const db = s.engine.status().database;
        return !cut && db.state === 'connected' && db.waiting === 0;
      });
      await s.engine.idle();
      expect(lines).toContain('the database is back; writing 1 queued results');
      const row = (await history()).images.find((i) => i.file_name === 'L1_L.jpg');
      expect(row).toMatchObject({ status: 'done' });
      const done = () => events.filter((e) => e.type === 'done' && e.record.id === row!.id);
      await until('its answer announced', () => done().length > 0);
      expect(done()).toHaveLength(1);
    } finally {
      await s.stop();
    }
  }, 60_000);

  it('tells a hand upload its answer is kept here when the server goes away while the model works on it', async () => {
    const dataDir = tempDir('cut-data');
    const watchDir = tempDir('cut-watch');
    dirs.push(dataDir, watchDir);
    let cut = false;
    // The server stops after admission, while the model answers: the commit is what meets the outage.
    const diagnoser = new (class extends FakeDiagnoser {
      override async diagnose(bytes: Buffer) {
        const d = await super.diagnose(bytes);
        if (cut) await server.stopServer();
        return d;
      }
    })();
    const s = await open(dataDir, watchDir, diagnoser);
    try {
      await s.start();
      const before = (await history()).images.length;
      cut = true;
      const upload = await s.call('diagnose.upload', {
        fileName: 'cut.jpg',
        dataBase64: (await syntheticJpeg(951)).toString('base64'),
      });
      cut = false;
      expect(upload).toMatchObject({ ok: true, value: { savedLocally: true, fileName: 'cut.jpg' } });
      expect((upload as { value: UploadSavedLocally }).value.answer?.gate).toMatch(
        /^(eardrum|not_eardrum|ungradable)$/,
      );
      await server.startServer();
      await until('written once back', () => {
        const db = s.engine.status().database;
        return db.state === 'connected' && db.waiting === 0;
      });
      await s.engine.idle();
      const h = await history();
      expect(h.images).toHaveLength(before + 1);
      expect(h.images.at(-1)).toMatchObject({ file_name: 'cut.jpg', source: 'upload', status: 'done' });
    } finally {
      cut = false;
      await server.startServer().catch(() => undefined);
      await s.stop();
    }
  }, 120_000);
});
