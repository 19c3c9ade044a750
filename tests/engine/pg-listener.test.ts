import { expect, it } from 'vitest';
import { PgChangeListener } from '../../main/store/pg-listener.ts';
import { createPool, pgClientConfig, readPasswordFile } from '../../main/store/pg-pool.ts';
import { PgStore } from '../../main/store/pg-store.ts';
import type { NewImage } from '../../main/store/record-rows.ts';
import type { RecordChange } from '../../main/store/store.ts';
import type { Diagnosis } from '../../model/types.ts';
import { FAKE_LABELS } from './helpers/fake-diagnoser.ts';
import { waitFor } from './helpers/fs-helpers.ts';
import { describePostgres, postgresPerFile } from './helpers/postgres-per-file.ts';

/**
 * A room's listener cut off (its backend terminated, and kept from logging in again) while another room
 * writes: once back, it hands over every record changed meanwhile, with how it changed and by whom, from
 * the change marks of migration 6, and not the changes it had heard in full before.
 */
const server = postgresPerFile('listen');

const image = (i: number): NewImage => ({
  sha256: i.toString(16).padStart(64, '0'),
  fileName: `img${i}.jpg`,
  originalPath: `/in/img${i}.jpg`,
  source: 'watch',
  storedPath: `originals/00/${i}.jpg`,
  thumbPath: null,
  sizeBytes: 1000,
  width: 640,
  height: 480,
  format: 'jpeg',
  capturedAt: new Date(Date.UTC(2026, 10, 1, 12, i)).toISOString(),
  captureSource: 'mtime',
  patientId: null,
  ear: 'left',
  patientSource: 'none',
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

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describePostgres('PostgreSQL listener catching up', () => {
  it('hands over the changes other rooms made while its connection was lost, once back', async () => {
    const url = server.url('listen');
    const open = (workstation: string) => {
      const connect = { url, passwordFile: server.passwordFile, applicationName: workstation, max: 4 };
      return PgStore.open(createPool(connect), url, { workstation, listenConfig: pgClientConfig(connect) });
    };
    const [a, b] = await Promise.all([open('room 1'), open('room 2')]);
    a.setLabels(FAKE_LABELS);
    b.setLabels(FAKE_LABELS);
    // Room 2's listener logs in as a role of its own, so that it alone can be kept out for a while.
    const password = readPasswordFile(server.passwordFile);
    await a.pool.query(`CREATE ROLE room2_listener LOGIN PASSWORD '${password}'`);
    await a.pool.query('GRANT SELECT ON images TO room2_listener');
    const heard: RecordChange[] = [];
    const states: boolean[] = [];
    const listener = new PgChangeListener({
      config: { ...pgClientConfig({ url, password }), user: 'room2_listener', application_name: 'room 2' },
      onChange: (c) => heard.push(c),
      onState: (s) => states.push(s.connected),
      retryMs: 100,
      maxRetryMs: 200,
      pingMs: 100,
    });
    const slow = await a.pool.connect();
    try {
      await listener.start();
      const quiet = (await a.insertImage(image(1))).id;
      const seen = (await a.insertImage(image(2))).id;
      await a.commitDiagnosis(seen, diagnosis, null);
      const done = await waitFor(() => heard.find((c) => c.id === seen && c.kind === 'done'), 5000, 10);
      // The notification names the transaction that the row keeps as its last change.
      const mark = await a.pool.query<{ x: string }>(
        'SELECT change_xid::text AS x FROM images WHERE id = $1',
        [seen],
      );
      expect(done).toEqual({ id: seen, kind: 'done', by: 'room 1', xid: mark.rows[0]!.x });
      await pause(400); // a few pings: what was heard so far is heard in full

      // A transaction open before the cut and committed while the listener is away: its id is older than
      // changes the listener heard, which a sequence number handed out before the commit would miss.
      await slow.query('BEGIN');
      await slow.query("UPDATE images SET ear = 'right' WHERE id = $1", [seen]);
      await a.pool.query('ALTER ROLE room2_listener NOLOGIN');
      await a.pool.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'room2_listener'",
      );
      await waitFor(() => states.at(-1) === false, 5000, 10);
      const cut = heard.length;

      const pendingByB = (await b.insertImage(image(3))).id;
      const doneByA = (await a.insertImage(image(4))).id;
      await a.commitDiagnosis(doneByA, diagnosis, null);
      await a.addReview({ recordId: doneByA, action: 'confirm', note: '', reviewer: 'dr kim' });
      await slow.query('COMMIT');
      await pause(300); // the listener keeps trying meanwhile, refused
      expect(heard.length).toBe(cut);

      await a.pool.query('ALTER ROLE room2_listener LOGIN');
      await waitFor(() => states.at(-1) === true, 10_000, 10);
      const replayed = heard.slice(cut).sort((x, y) => x.id - y.id);
      expect(replayed.map(({ id, kind, by }) => ({ id, kind, by }))).toEqual([
        { id: seen, kind: 'updated', by: 'room 1' },
        { id: pendingByB, kind: 'pending', by: 'room 2' },
        // Answered and reviewed while away: the answer is what is handed over.
        { id: doneByA, kind: 'done', by: 'room 1' },
      ]);
      expect(replayed.every((c) => typeof c.xid === 'string')).toBe(true);
      expect(replayed.some((c) => c.id === quiet)).toBe(false);

      // Live again: later changes are notified, not read back.
      await a.addReview({ recordId: seen, action: 'confirm', note: '', reviewer: 'dr lee' });
      await waitFor(() => heard.length > cut + 3, 5000, 10);
      expect(heard.slice(cut + 3).map(({ id, kind }) => ({ id, kind }))).toEqual([
        { id: seen, kind: 'updated' },
      ]);

      // Catching up reads the changed rows through their index, never the whole table.
      const plan = await a.pool.connect();
      try {
        await plan.query('SET enable_seqscan = off');
        const r = await plan.query<{ 'QUERY PLAN': string }>(
          "EXPLAIN SELECT id FROM images WHERE change_xid >= '3'::xid8 ORDER BY change_xid, id LIMIT 500",
        );
        expect(r.rows.map((x) => x['QUERY PLAN']).join('\n')).toContain('images_change_xid');
      } finally {
        plan.release();
      }
    } finally {
      slow.release();
      await listener.stop();
      await Promise.all([a.close(), b.close()]);
    }
  }, 60_000);
});
