import { describe, expect, it } from 'vitest';
import type { EngineEvent, EngineStatus, RecordSummary } from '../../common/contract.ts';
import { Notifier } from '../../main/ingest/stages/notify.ts';
import { RemoteChanges } from '../../main/ingest/stages/remote.ts';
import type { RecordChange, SharedHistory, Store } from '../../main/store/store.ts';
import type { Logger } from '../../main/util/logger.ts';
import { waitFor } from './helpers/fs-helpers.ts';

/**
 * What this room announces of other rooms' changes when its listener comes back and hands over the changes
 * made meanwhile along with some it heard before: each change once (by its transaction), and a record that
 * could not be read because the server had gone away read again once it is back.
 */
const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

function setup() {
  let onChange: (c: RecordChange) => void = () => undefined;
  let onState: (s: { connected: boolean }) => void = () => undefined;
  const shared = {
    workstation: 'room 2',
    listen: async (c: typeof onChange, s: typeof onState) => {
      onChange = c;
      onState = s;
      return async () => undefined;
    },
  } as unknown as SharedHistory;
  let down = false;
  const reads: number[] = [];
  const store = {
    shared,
    summary: async (id: number) => {
      reads.push(id);
      if (down)
        throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
      return { id, status: 'done', fileName: `r${id}.jpg`, originalPath: `/in/r${id}.jpg` } as RecordSummary;
    },
  } as unknown as Store;
  const notifier = new Notifier(quiet);
  const events: EngineEvent[] = [];
  notifier.subscribe((e) => events.push(e));
  const remote = RemoteChanges.of({
    store,
    notifier,
    logger: quiet,
    status: () => ({}) as EngineStatus,
    windowMs: 5,
  })!;
  const doneIds = () => events.flatMap((e) => (e.type === 'done' ? [e.record.id] : []));
  return {
    remote,
    reads,
    doneIds,
    hear: (c: RecordChange) => onChange(c),
    state: (connected: boolean) => onState({ connected }),
    setDown: (d: boolean) => (down = d),
  };
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('other rooms’ changes after the listener reconnects', () => {
  it('announces a change heard twice once, and a later change of the same record again', async () => {
    const t = setup();
    await t.remote.start();
    t.hear({ id: 1, kind: 'done', by: 'room 1', xid: '100' });
    await waitFor(() => t.doneIds().length === 1, 20_000, 5);
    // Handed over again after a reconnect (the same transaction): not announced twice.
    t.state(true);
    t.hear({ id: 1, kind: 'done', by: 'room 1', xid: '100' });
    t.hear({ id: 2, kind: 'done', by: 'room 1', xid: '101' });
    t.hear({ id: 3, kind: 'done', by: 'room 2', xid: '102' }); // this room's own
    await waitFor(() => t.doneIds().length === 2, 20_000, 5);
    await pause(30);
    expect(t.doneIds()).toEqual([1, 2]);
    // A later change of record 1 is news.
    t.hear({ id: 1, kind: 'done', by: 'room 1', xid: '105' });
    await waitFor(() => t.doneIds().length === 3, 20_000, 5);
    expect(t.doneIds()).toEqual([1, 2, 1]);
    await t.remote.stop();
  });

  it('reads a record again once the server is back when it could not be read', async () => {
    const t = setup();
    await t.remote.start();
    t.setDown(true);
    t.hear({ id: 7, kind: 'done', by: 'room 1', xid: '200' });
    await waitFor(() => t.reads.length === 1, 20_000, 5);
    await pause(30);
    expect(t.doneIds()).toEqual([]);
    t.state(false);
    t.setDown(false);
    t.state(true);
    await waitFor(() => t.doneIds().length === 1, 20_000, 5);
    // Handed over by the listener as well: announced once.
    t.hear({ id: 7, kind: 'done', by: 'room 1', xid: '200' });
    await pause(30);
    expect(t.doneIds()).toEqual([7]);
    await t.remote.stop();
  });
});
