import { expect, it } from 'vitest';
import { createPool, pgClientConfig } from '../../main/store/pg-pool.ts';
import { PgStore } from '../../main/store/pg-store.ts';
import { FAKE_LABELS } from './helpers/fake-diagnoser.ts';
import { FAKE_ANSWER, fakeImage } from './helpers/store-rows.ts';
import { describePostgres, postgresPerFile } from './helpers/postgres-per-file.ts';

/**
 * The unfiltered board total and the status counts come from image_counts, kept by triggers
 * (pg-migrations.ts 3): they must equal a real count after every kind of write, from several connections.
 */
/** Patients P0-P2 from the file names; a failed photo keeps no copy. */
const image = (i: number, failed = false) =>
  fakeImage(i, {
    patientId: `P${i % 3}`,
    patientSource: 'pattern',
    ...(failed ? { storedPath: null, failure: { code: 'image.empty', message: 'empty' } } : {}),
  });

const server = postgresPerFile('counts');

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
        stored.slice(0, 12).map((id, i) => (i % 2 ? a : b).commitDiagnosis(id, FAKE_ANSWER, null)),
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
