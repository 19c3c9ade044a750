import type pg from 'pg';

/** What a pool's connections are checked out of: the pool itself, or its connect before the gate. */
export interface Connectable {
  connect(): Promise<pg.PoolClient>;
}

type ConnectCallback = (
  err: Error | undefined,
  client?: pg.PoolClient,
  done?: (release?: unknown) => void,
) => void;

/**
 * Holds every connection of a pool until `prepare` has run once (the migrations, for a workstation that
 * started while the server was away). node-postgres' `pool.query` checks a connection out through
 * `pool.connect`, so the store's queries, transactions, claims and the CSV cursor all wait here: none runs
 * on a schema this version has not migrated yet. While `prepare` fails (the server still away, or refusing
 * the migration), each connect fails with its error and the next one tries again. Once done, the pool's
 * own connect is put back and costs nothing more.
 */
export function holdUntilPrepared(pool: pg.Pool, prepare: (raw: Connectable) => Promise<void>): void {
  const raw: Connectable = { connect: () => Object.getPrototypeOf(pool).connect.call(pool) };
  let running: Promise<void> | null = null;
  const ready = (): Promise<void> =>
    (running ??= prepare(raw)
      .then(() => {
        // The instance's override removed: the prototype's connect serves from now on.
        delete (pool as { connect?: unknown }).connect;
      })
      .finally(() => {
        running = null;
      }));
  const gated = (cb?: ConnectCallback): Promise<pg.PoolClient> | undefined => {
    const client = ready().then(() => raw.connect());
    if (!cb) return client;
    client.then(
      (c) => cb(undefined, c, (release?: unknown) => c.release(release as Error | undefined)),
      (err: Error) => cb(err),
    );
    return undefined;
  };
  (pool as unknown as { connect: typeof gated }).connect = gated;
}

/** Whether the pool still waits for `holdUntilPrepared`'s preparation. */
export function isHeld(pool: pg.Pool): boolean {
  return Object.prototype.hasOwnProperty.call(pool, 'connect');
}
