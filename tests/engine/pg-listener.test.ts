import { expect, it } from 'vitest';
import { PgChangeListener } from '../../main/store/pg-listener.ts';
import { createPool, pgClientConfig, readPasswordFile } from '../../main/store/pg-pool.ts';
import { PgStore } from '../../main/store/pg-store.ts';
import type { RecordChange } from '../../main/store/store.ts';
import { FAKE_LABELS } from './helpers/fake-diagnoser.ts';
import { waitFor } from './helpers/fs-helpers.ts';
import { FAKE_ANSWER, fakeImage } from './helpers/store-rows.ts';
import { describePostgres, postgresPerFile } from './helpers/postgres-per-file.ts';

/**
 * A room's listener cut off (its backend terminated, and kept from logging in again) while another room
 * writes: once back, it hands over every record changed meanwhile, with how it changed and by whom, from
 * the change marks of migration 6, and not the changes it had heard in full before.
 */
const server = postgresPerFile('listen');

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function changeXid(store: PgStore, id: number): Promise<bigint> {
  const r = await store.pool.query<{ x: string }>('SELECT change_xid::text AS x FROM images WHERE id = $1', [
    id,
  ]);
  return BigInt(r.rows[0]!.x);
}

/** Whether a transaction had committed for a snapshot (`xmin:xmax:xip,...`, pg_visible_in_snapshot's rule). */
function sees(snapshot: string, xid: bigint): boolean {
  const [xmin, xmax, xip] = snapshot.split(':');
  if (xid < BigInt(xmin!)) return true;
  return xid < BigInt(xmax!) && !(xip ?? '').split(',').includes(xid.toString());
}

/**
 * Room 1 and another room on the server, and the other room's listener logging in as a role of its own, so
 * that it alone can be kept out for a while. It keeps what it hears, its states and the snapshots heard in full.
 */
async function roomsWithListener(room: string, role: string) {
  const url = server.url('listen');
  const open = (workstation: string) => {
    const connect = { url, passwordFile: server.passwordFile, applicationName: workstation, max: 4 };
    return PgStore.open(createPool(connect), url, { workstation, listenConfig: pgClientConfig(connect) });
  };
  const [a, b] = await Promise.all([open('room 1'), open(room)]);
  a.setLabels(FAKE_LABELS);
  b.setLabels(FAKE_LABELS);
  const password = readPasswordFile(server.passwordFile);
  await a.pool.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
  await a.pool.query(`GRANT SELECT ON images TO ${role}`);
  const heard: RecordChange[] = [];
  const states: boolean[] = [];
  const kept: string[] = [];
  // Under the room's own name: its own changes are its own, as for its pool's.
  const listener = new PgChangeListener({
    config: { ...pgClientConfig({ url, password }), user: role, application_name: room },
    heard: { since: null, keep: (snapshot) => kept.push(snapshot) },
    onChange: (c) => heard.push(c),
    onState: (s) => states.push(s.connected),
    retryMs: 100,
    maxRetryMs: 200,
    pingMs: 100,
  });
  return { a, b, listener, heard, states, kept };
}

describePostgres('PostgreSQL listener catching up', () => {
  it('hands over the changes other rooms made while its connection was lost, once back', async () => {
    const { a, b, listener, heard, states, kept } = await roomsWithListener('room 2', 'room2_listener');
    const slow = await a.pool.connect();
    try {
      await listener.start();
      const quiet = (await a.insertImage(fakeImage(1))).id;
      const seen = (await a.insertImage(fakeImage(2))).id;
      await a.commitDiagnosis(seen, FAKE_ANSWER, null);
      const done = await waitFor(() => heard.find((c) => c.id === seen && c.kind === 'done'), 20_000, 10);
      // The notification names the transaction that the row keeps as its last change.
      const mark = await a.pool.query<{ x: string }>(
        'SELECT change_xid::text AS x FROM images WHERE id = $1',
        [seen],
      );
      expect(done).toEqual({ id: seen, kind: 'done', by: 'room 1', xid: mark.rows[0]!.x });
      // What was heard so far is heard in full: a snapshot kept as heard sees that answer.
      await waitFor(() => kept.some((k) => sees(k, BigInt(done.xid!))), 10_000, 10);

      // A transaction open before the cut and committed while the listener is away: its id is older than
      // changes the listener heard, which a sequence number handed out before the commit would miss.
      await slow.query('BEGIN');
      await slow.query("UPDATE images SET ear = 'right' WHERE id = $1", [seen]);
      await a.pool.query('ALTER ROLE room2_listener NOLOGIN');
      await a.pool.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'room2_listener'",
      );
      await waitFor(() => states.at(-1) === false, 20_000, 10);
      const cut = heard.length;

      const pendingByB = (await b.insertImage(fakeImage(3))).id;
      const doneByA = (await a.insertImage(fakeImage(4))).id;
      await a.commitDiagnosis(doneByA, FAKE_ANSWER, null);
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
      await waitFor(() => heard.length > cut + 3, 20_000, 10);
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

  it("hands over another room's answer that this room's own later change wrote over while it was away", async () => {
    const { a, b, listener, heard, states, kept } = await roomsWithListener('room 3', 'room3_listener');
    try {
      // Answered by room 1 and reviewed by room 3 before the cut, once the listener heard it in full.
      const before = (await a.insertImage(fakeImage(11))).id;
      await a.commitDiagnosis(before, FAKE_ANSWER, null);
      await listener.start();
      await b.addReview({ recordId: before, action: 'confirm', note: '', reviewer: 'dr park' });
      const aware = (await a.insertImage(fakeImage(12))).id;
      const awareXid = await changeXid(a, aware);
      // Heard in full: a snapshot kept as heard sees that insert (and room 3's review before it).
      await waitFor(() => kept.some((k) => sees(k, awareXid)), 10_000, 10);
      await a.pool.query('ALTER ROLE room3_listener NOLOGIN');
      await a.pool.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'room3_listener'",
      );
      await waitFor(() => states.at(-1) === false, 20_000, 10);
      const cut = heard.length;

      // While away: room 1 answers a photo room 3 stored, and room 3 then reviews it (its own last change);
      // room 1 edits a record, room 3 edits it after; room 3 alone changes another.
      const answered = (await b.insertImage(fakeImage(13))).id;
      await a.commitDiagnosis(answered, FAKE_ANSWER, null);
      await b.addReview({ recordId: answered, action: 'confirm', note: '', reviewer: 'dr park' });
      await a.pool.query("UPDATE images SET ear = 'right' WHERE id = $1", [aware]);
      await b.pool.query("UPDATE images SET ear = 'left' WHERE id = $1", [aware]);
      await b.addReview({ recordId: before, action: 'confirm', note: 'again', reviewer: 'dr park' });
      const answerXid = await a.pool.query<{ x: string; last: string }>(
        'SELECT status_xid::text AS x, changed_by AS last FROM images WHERE id = $1',
        [answered],
      );
      expect(answerXid.rows[0]!.last).toBe('room 3');

      await a.pool.query('ALTER ROLE room3_listener LOGIN');
      await waitFor(() => states.at(-1) === true, 10_000, 10);
      const replayed = heard.slice(cut).sort((x, y) => x.id - y.id);
      expect(replayed.map(({ id, kind, by }) => ({ id, kind, by }))).toEqual([
        // Room 3's own last change only: told as its own (its hearer skips it), not as room 1's from before.
        { id: before, kind: 'updated', by: 'room 3' },
        // Room 1's edit, under room 3's later one.
        { id: aware, kind: 'updated', by: 'room 1' },
        // Room 1's answer, under room 3's review, by the answer's transaction.
        { id: answered, kind: 'done', by: 'room 1' },
      ]);
      expect(replayed.find((c) => c.id === answered)?.xid).toBe(answerXid.rows[0]!.x);
    } finally {
      await listener.stop();
      await Promise.all([a.close(), b.close()]);
    }
  }, 60_000);
});
