import { afterAll, expect, it } from 'vitest';
import type { EngineEvent } from '../../common/contract.ts';
import { createServices, type Services } from '../../main/services.ts';
import { createPool, pgClientConfig } from '../../main/store/pg-pool.ts';
import { PgStore } from '../../main/store/pg-store.ts';
import { FAKE_LABELS, FakeDiagnoser } from './helpers/fake-diagnoser.ts';
import { removeDir, tempDir } from './helpers/fs-helpers.ts';
import { captureLog } from './helpers/log-capture.ts';
import { FAKE_ANSWER, fakeImage } from './helpers/store-rows.ts';
import { describePostgres, postgresPerFile } from './helpers/postgres-per-file.ts';

/**
 * A room started while the server is away could read nothing for its views. Once the server answers, its
 * listener catches up from the last snapshot its previous run heard in full (kept in the local queue):
 * another room's answer made while this room was off or waiting is announced on its event stream, and what
 * the previous run had heard in full is not announced again.
 */
const { logger, until } = captureLog();
const server = postgresPerFile('rooms');
const dirs: string[] = [];
afterAll(() => {
  dirs.forEach(removeDir);
});

function room2(dataDir: string): Promise<Services> {
  return createServices({
    dataDir,
    dbPath: server.url('rooms'),
    dbPasswordFile: server.passwordFile,
    diagnoser: new FakeDiagnoser(),
    stabilityMs: 100,
    logger,
  });
}

describePostgres('A room started while PostgreSQL is away catching up with the others', () => {
  it("announces the other rooms' answers made since its previous run heard the server in full", async () => {
    const url = server.url('rooms');
    const connect = { url, passwordFile: server.passwordFile, applicationName: 'room 1', max: 2 };
    const openRoom1 = () =>
      PgStore.open(createPool(connect), url, {
        workstation: 'room 1',
        listenConfig: pgClientConfig(connect),
      });
    let room1 = await openRoom1();
    room1.setLabels(FAKE_LABELS);
    const answer = async (i: number) => {
      const id = (await room1.insertImage(fakeImage(0xa000 + i))).id;
      await room1.commitDiagnosis(id, FAKE_ANSWER, null);
      return id;
    };
    const dataDir = tempDir('away-catch-up');
    dirs.push(dataDir);
    let s: Services | null = null;
    try {
      // Room 2's first run, with the server up: its views load the history as it is (this answer in it).
      const known = await answer(1);
      s = await room2(dataDir);
      await s.start();
      await s.stop();
      s = null;

      // Room 1 goes on while room 2 is off.
      const whileOff = await answer(2);
      await room1.close();
      await server.stopServer();
      let events: EngineEvent[] = [];
      try {
        s = await room2(dataDir);
        s.subscribe((e) => events.push(e));
        await s.start();
        expect(s.engine.status().database.state).toBe('unreachable');
        events = [];
      } finally {
        await server.startServer();
      }
      // Room 1 answers again as soon as the server is back, perhaps before room 2's listener is.
      room1 = await openRoom1();
      room1.setLabels(FAKE_LABELS);
      const whileWaiting = await answer(3);
      const announced = () =>
        events.flatMap((e) => (e.type === 'done' && e.record.id !== known ? [e.record.id] : []));
      await until('both answers announced in room 2', () =>
        [whileOff, whileWaiting].every((id) => announced().includes(id)),
      );
      expect(new Set(announced())).toEqual(new Set([whileOff, whileWaiting]));
      // Heard in full by the first run: not announced again (it came before the others in the catch-up).
      expect(events.some((e) => e.type === 'done' && e.record.id === known)).toBe(false);
    } finally {
      await s?.stop();
      await room1.close().catch(() => undefined); // closed already when the server failed to come back
    }
  }, 90_000);
});
