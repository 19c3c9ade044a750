import type { EngineEvent } from '../../../common/contract.ts';
import { createServices, type Services, type ServicesOptions } from '../../../main/services.ts';
import type { RecordStore } from '../../../main/store/records.ts';
import type { SqliteStore } from '../../../main/store/sqlite-store.ts';
import { FakeDiagnoser } from './fake-diagnoser.ts';
import { removeDir, tempDir, waitFor } from './fs-helpers.ts';

export interface Harness {
  services: Services;
  /** The SQLite store's synchronous side, for assertions (the harness runs on SQLite). */
  records: RecordStore;
  dataDir: string;
  watchDir: string;
  events: EngineEvent[];
  /** Waits until `n` done/failed records exist in the database and the engine is idle. */
  settled(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startHarness(
  opts: Partial<ServicesOptions> & { dataDir?: string; watchDir?: string } = {},
): Promise<Harness> {
  const dataDir = opts.dataDir ?? tempDir('data');
  const watchDir = opts.watchDir ?? tempDir('watch');
  const services = await createServices({
    diagnoser: new FakeDiagnoser(),
    stabilityMs: 150,
    ...opts,
    dataDir,
    watchDir,
  });
  const records = (services.store as SqliteStore).records;
  const events: EngineEvent[] = [];
  services.subscribe((e) => events.push(e));
  await services.start();
  let closed = false;
  return {
    services,
    records,
    dataDir,
    watchDir,
    events,
    async settled(n, timeoutMs = 30_000) {
      await waitFor(() => {
        const c = records.counts();
        return c.done + c.failed >= n && c.pending === 0;
      }, timeoutMs);
      await services.engine.idle();
    },
    async close() {
      if (closed) return;
      closed = true;
      await services.stop();
      if (!opts.dataDir) removeDir(dataDir);
      if (!opts.watchDir) removeDir(watchDir);
    },
  };
}
