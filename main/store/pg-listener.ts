import pg from 'pg';
import type { RecordChange } from './store.ts';

/** The channel migration 2's trigger notifies on. */
export const RECORDS_CHANNEL = 'eardrum_records';
/** Migration 7's: the clinic's settings changed (the payload names the writer). */
export const SETTINGS_CHANNEL = 'eardrum_settings';

const KINDS = new Set<RecordChange['kind']>(['new', 'pending', 'done', 'failed', 'updated']);

/** A notification's payload, or null when it is not one of ours (another tool on the channel, a damaged one). */
export function parseChange(payload: string | undefined): RecordChange | null {
  if (!payload) return null;
  try {
    const v = JSON.parse(payload) as { id?: unknown; kind?: unknown; by?: unknown; xid?: unknown };
    if (!Number.isInteger(v.id) || !KINDS.has(v.kind as RecordChange['kind'])) return null;
    return {
      id: v.id as number,
      kind: v.kind as RecordChange['kind'],
      by: typeof v.by === 'string' ? v.by : '',
      ...(typeof v.xid === 'string' ? { xid: v.xid } : {}),
    };
  } catch {
    return null;
  }
}

/** Records changed in a page of a catch-up, by transaction then id. */
const MISSED_PAGE = 500;

/**
 * The records changed by transactions that `before` did not see and `upTo` did (migration 6's marks), each
 * with how it last changed: its status when that changed then, else `updated`. Read in pages from the
 * change index, starting at `before`'s oldest running transaction: the rows changed since, not the table.
 *
 * A record whose latest change is this connection's workstation's own (its `application_name`) stands for
 * the last change another writer made before it (migration 8's `prior_xid`, `prior_by`) when that one is
 * in the window: this room announced its own change when it made it, not the other room's answer it
 * wrote over while its listener was away. Its own change may have committed after `upTo` (it is not
 * notified to itself); the other's, before it, is still this window's.
 */
export async function missedChanges(c: pg.ClientBase, before: string, upTo: string): Promise<RecordChange[]> {
  const out: RecordChange[] = [];
  let after: [string, number] = ['0', 0];
  for (;;) {
    const r = await c.query<{
      id: number;
      status: string;
      by: string | null;
      xid: string;
      answered: boolean;
      cursor: string;
    }>(
      `SELECT id, status, change_xid::text AS cursor,
         CASE WHEN prior_missed THEN prior_by ELSE changed_by END AS by,
         (CASE WHEN prior_missed THEN prior_xid ELSE change_xid END)::text AS xid,
         coalesce(status_xid >= pg_snapshot_xmin($1::pg_snapshot)
           AND NOT pg_visible_in_snapshot(status_xid, $1::pg_snapshot)
           AND NOT (prior_missed AND status_xid = change_xid), false) AS answered
       FROM (SELECT id, status, change_xid, status_xid, changed_by, prior_xid, prior_by,
           NOT pg_visible_in_snapshot(change_xid, $1::pg_snapshot)
             AND pg_visible_in_snapshot(change_xid, $2::pg_snapshot) AS last_missed,
           coalesce(changed_by = current_setting('application_name')
             AND prior_xid >= pg_snapshot_xmin($1::pg_snapshot)
             AND NOT pg_visible_in_snapshot(prior_xid, $1::pg_snapshot)
             AND pg_visible_in_snapshot(prior_xid, $2::pg_snapshot), false) AS prior_missed
         FROM images
         WHERE change_xid >= pg_snapshot_xmin($1::pg_snapshot) AND (change_xid, id) > ($3::xid8, $4::int)) m
       WHERE last_missed OR prior_missed
       ORDER BY change_xid, id LIMIT ${MISSED_PAGE}`,
      [before, upTo, after[0], after[1]],
    );
    for (const row of r.rows)
      out.push({
        id: row.id,
        kind: row.answered ? (row.status as RecordChange['kind']) : 'updated',
        by: row.by ?? '',
        xid: row.xid,
      });
    const last = r.rows.at(-1);
    if (!last || r.rows.length < MISSED_PAGE) return out;
    after = [last.cursor, last.id];
  }
}

/**
 * Where a listener keeps, beyond this run, the last snapshot it heard in full (the local queue): `since`
 * is the one a start while the server is away catches up from; `keep` is told each newer one.
 */
export interface HeardMemory {
  since: string | null;
  keep(snapshot: string): void;
}

export interface ListenerOptions {
  config: pg.ClientConfig;
  heard?: HeardMemory | undefined;
  onChange(c: RecordChange): void;
  onState(s: { connected: boolean; error?: string }): void;
  /** The clinic's settings were changed by the workstation named. */
  onSettings?(by: string): void;
  /** Pause before the first reconnection attempt; doubled after each failure up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
  /** A query this often notices a link that died without a word (a cable pulled, a NAT timeout). */
  pingMs?: number;
}

/**
 * LISTEN on a connection of its own: a pooled connection would be handed to other queries and its LISTEN
 * would end with it. When the connection is lost (server restart, network), it reconnects with a growing
 * pause and says so through onState. PostgreSQL keeps no notifications for absent listeners, so once back
 * (LISTEN first, then a snapshot) it reads the records changed by transactions that committed after the last
 * snapshot known to be heard in full and before the new one (`missedChanges`), and hands them to onChange
 * as notifications; later commits are notified. The snapshot "heard in full" is the one taken at the
 * previous ping (or at connecting): by the time the next ping answers, every notification of a transaction
 * that snapshot saw has arrived on this ordered connection. Changes heard since may come again; their
 * transaction id (`xid`) lets the hearer skip those it announced. The snapshot heard in full is kept
 * (`heard.keep`) so that a run started while the server was away, whose views could read nothing, catches
 * up from the previous run's on its first connection (`heard.since`) instead of starting from nothing.
 */
export class PgChangeListener {
  private client: pg.Client | null = null;
  /** Ends the current connection as lost (and schedules the next one). */
  private drop: ((err?: Error) => void) | null = null;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  private delayMs: number;
  private connected = false;
  /**
   * Every change committed before this snapshot has been heard (or read back); null before the first
   * connection, unless a previous run's is given (`heard.since`: this run started while the server was away).
   */
  private heardUpTo: string | null = null;
  /** The latest ping's snapshot: heard in full once the next ping answers. */
  private lastPing: string | null = null;

  constructor(private readonly o: ListenerOptions) {
    this.delayMs = o.retryMs ?? 500;
    this.heardUpTo = o.heard?.since ?? null;
  }

  /** Connects (or keeps trying in the background: a server that is down now may be up in a moment). */
  async start(): Promise<void> {
    await this.connect();
    this.pingTimer = setInterval(() => void this.ping(), this.o.pingMs ?? 15_000);
    this.pingTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const c = new pg.Client({ ...this.o.config, keepAlive: true });
    let gone = false;
    const lost = (err?: Error) => {
      if (gone) return;
      gone = true;
      if (this.client === c) this.client = null;
      void c.end().catch(() => undefined);
      if (this.stopped) return;
      if (this.connected) {
        this.connected = false;
        this.o.onState({ connected: false, error: err?.message ?? 'the connection ended' });
      }
      this.retryTimer = setTimeout(() => void this.connect(), this.delayMs);
      this.retryTimer.unref();
      this.delayMs = Math.min(this.delayMs * 2, this.o.maxRetryMs ?? 5000);
    };
    c.on('error', lost);
    c.on('end', () => lost());
    c.on('notification', (n) => {
      if (n.channel === SETTINGS_CHANNEL) return this.o.onSettings?.(n.payload ?? '');
      if (n.channel !== RECORDS_CHANNEL) return;
      const change = parseChange(n.payload);
      if (change) this.o.onChange(change);
    });
    let missed: RecordChange[] = [];
    let now: string;
    try {
      await c.connect();
      await c.query(`LISTEN ${RECORDS_CHANNEL}; LISTEN ${SETTINGS_CHANNEL}`);
      now = await snapshot(c);
      if (this.heardUpTo) missed = await missedChanges(c, this.heardUpTo, now);
    } catch (err) {
      lost(err as Error);
      return;
    }
    if (gone) return;
    if (this.stopped) {
      await c.end().catch(() => undefined);
      return;
    }
    this.heard(now);
    this.lastPing = now;
    this.client = c;
    this.drop = lost;
    this.delayMs = this.o.retryMs ?? 500;
    this.connected = true;
    this.o.onState({ connected: true });
    for (const change of missed) this.o.onChange(change);
  }

  private async ping(): Promise<void> {
    const c = this.client;
    const drop = this.drop;
    if (!c || !drop) return;
    try {
      const now = await snapshot(c);
      if (this.client !== c) return;
      if (this.lastPing) this.heard(this.lastPing);
      this.lastPing = now;
    } catch (err) {
      drop(err as Error);
    }
  }
  private heard(snapshot: string): void {
    if (snapshot === this.heardUpTo) return;
    this.heardUpTo = snapshot;
    try {
      this.o.heard?.keep(snapshot);
    } catch {
      // Not kept (a full disk): a start while the server is away catches up from an older one, reading more.
    }
  }
}

async function snapshot(c: pg.ClientBase): Promise<string> {
  return (await c.query<{ s: string }>('SELECT pg_current_snapshot()::text AS s')).rows[0]!.s;
}
