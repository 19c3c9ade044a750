import { expect, it } from 'vitest';
import { createPool, pgClientConfig } from '../../main/store/pg-pool.ts';
import { PgStore } from '../../main/store/pg-store.ts';
import type { NewImage } from '../../main/store/record-rows.ts';
import type { Diagnosis } from '../../model/types.ts';
import { FAKE_LABELS } from './helpers/fake-diagnoser.ts';
import { describePostgres, postgresPerFile } from './helpers/postgres-per-file.ts';

/**
 * The unfiltered board total and the status counts come from image_counts, kept by triggers
 * (pg-migrations.ts 3): they must equal a real count after every kind of write, from several connections.
 */
const server = postgresPerFile('counts');

const image = (i: number, failed = false): NewImage => ({
  sha256: i.toString(16).padStart(64, '0'),
  fileName: `img${i}.jpg`,
  originalPath: `/in/img${i}.jpg`,
  source: 'watch',
  storedPath: failed ? null : `originals/00/${i}.jpg`,
  thumbPath: null,
  sizeBytes: 1000,
  width: 640,
  height: 480,
  format: 'jpeg',
  capturedAt: new Date(Date.UTC(2026, 10, 1, 12, i)).toISOString(),
  captureSource: 'mtime',
  patientId: `P${i % 3}`,
  ear: 'left',
  patientSource: 'pattern',
  ...(failed ? { failure: { code: 'image.empty', message: 'empty' } } : {}),
});

const diagnosis: Diagnosis = {
  gate: 'eardrum',
  eardrumProbability: 0.9,
  label: 'aom',
  probabilities: { normal: 0.1, aom: 0.8, effusion: 0.1 },
  decision: 'confident',
  notSureReasons: [],
  unfamiliarity: 0.1,
  heatmap: null,
  image: { width: 640, height: 480, format: 'jpeg' },
  timings: { decodeMs: 1, inferenceMs: 2, totalMs: 3 },
  model: { id: 'm', version: '1', backend: 'cpu' },
};

describePostgres('PostgreSQL record counts', () => {
  it('equal a real count after inserts, further sources, answers, failures, retries, deletes and TRUNCATE', async () => {
    const url = server.url('counts');
    const open = (workstation: string) => {
      const connect = { url, passwordFile: server.passwordFile, applicationName: workstation, max: 4 };
      return PgStore.open(createPool(connect), url, { workstation, listenConfig: pgClientConfig(connect) });
    };
    // Two workstations writing at once.
    const [a, b] = await Promise.all([open('room 1'), open('room 2')]);
    a.setLabels(FAKE_LABELS);
    b.setLabels(FAKE_LABELS);
    const real = async () => {
      const r = await a.pool.query<{ status: string; n: number }>(
        'SELECT status, count(*)::int AS n FROM images GROUP BY status',
      );
      const c = { total: 0, done: 0, failed: 0, pending: 0 };
      for (const x of r.rows) {
        c.total += x.n;
        c[x.status as 'done' | 'failed' | 'pending'] = x.n;
      }
      return c;
    };
    const check = async () => {
      const expected = await real();
      expect(await a.counts()).toEqual(expected);
      const page = await b.list({
        filter: {},
        sort: { field: 'capturedAt', direction: 'desc' },
        offset: 0,
        limit: 5,
      });
      expect(page.total).toBe(expected.total);
      return expected;
    };
    try {
      expect(await check()).toEqual({ total: 0, done: 0, failed: 0, pending: 0 });
      // Concurrent inserts from both rooms, the same photo stored by both (one copy, a conflict in the
      // database), and files that failed before being stored.
      const ids = await Promise.all(
        Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).insertImage(image(i % 30, i % 10 === 9))),
      );
      await check();
      const stored = [...new Set(ids.filter((x) => x.created).map((x) => x.id))];
      await b.addSource(stored[0]!, {
        fileName: 'copy.jpg',
        originalPath: '/in/copy.jpg',
        source: 'watch',
        capturedAt: new Date().toISOString(),
        captureSource: 'mtime',
        patientId: null,
        ear: 'unknown',
        patientSource: 'none',
      });
      await check();
      await Promise.all(
        stored.slice(0, 12).map((id, i) => (i % 2 ? a : b).commitDiagnosis(id, diagnosis, null)),
      );
      await a.markFailed(stored[12]!, { code: 'image.corrupt', message: 'corrupt' });
      await b.markPending(stored[0]!);
      await a.addReview({ recordId: stored[1]!, action: 'confirm', note: '', reviewer: 'dr kim' });
      const mid = await check();
      expect(mid.done).toBeGreaterThan(0);
      expect(mid.failed).toBeGreaterThan(0);
      expect(mid.pending).toBeGreaterThan(0);
      // Deletes and TRUNCATE are not the app's, but an administrator's counts must stay true too.
      await a.pool.query(
        "DELETE FROM source_files; DELETE FROM images WHERE status = 'pending' AND primary_id IS NULL AND id NOT IN (SELECT primary_id FROM images WHERE primary_id IS NOT NULL) AND id NOT IN (SELECT image_id FROM diagnoses)",
      );
      await check();
      await a.pool.query(
        'ALTER TABLE diagnoses DISABLE TRIGGER USER; ALTER TABLE reviews DISABLE TRIGGER USER',
      );
      await a.pool.query('TRUNCATE images, diagnoses, reviews, image_edits, source_files, photo_claims');
      expect(await check()).toEqual({ total: 0, done: 0, failed: 0, pending: 0 });
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  }, 60_000);
});
