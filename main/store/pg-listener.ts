import pg from 'pg';
import type { RecordChange } from './store.ts';

/** The channel migration 2's trigger notifies on. */
export const RECORDS_CHANNEL = 'eardrum_records';

const KINDS = new Set<RecordChange['kind']>(['new', 'pending', 'done', 'failed', 'updated']);

/** A notification's payload, or null when it is not one of ours (another tool on the channel, a damaged one). */
export function parseChange(payload: string | undefined): RecordChange | null {
  if (!payload) return null;
  try {
    const v = JSON.parse(payload) as { id?: unknown; kind?: unknown; by?: unknown };
    if (!Number.isInteger(v.id) || !KINDS.has(v.kind as RecordChange['kind'])) return null;
    return {
      id: v.id as number,
      kind: v.kind as RecordChange['kind'],
      by: typeof v.by === 'string' ? v.by : '',
    };
  } catch {
    return null;
  }
}

export interface ListenerOptions {
  config: pg.ClientConfig;
  onChange(c: RecordChange): void;
  onState(s: { connected: boolean; error?: string }): void;
  /** Pause before the first reconnection attempt; doubled after each failure up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
  /** A query this often notices a link that died without a word (a cable pulled, a NAT timeout). */
  pingMs?: number;
}

/**
 * LISTEN on a connection of its own: a pooled connection would be handed to other queries and its LISTEN
 * would end with it. When the connection is lost (server restart, network), it reconnects with a growing
 * pause and says so through onState. Notifications sent while it was away are not replayed (PostgreSQL
 * keeps none for absent listeners); the views show those changes at their next reload.
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

  constructor(private readonly o: ListenerOptions) {
    this.delayMs = o.retryMs ?? 500;
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
      if (n.channel !== RECORDS_CHANNEL) return;
      const change = parseChange(n.payload);
      if (change) this.o.onChange(change);
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${RECORDS_CHANNEL}`);
    } catch (err) {
      lost(err as Error);
      return;
    }
    if (gone) return;
    if (this.stopped) {
      await c.end().catch(() => undefined);
      return;
    }
    this.client = c;
    this.drop = lost;
    this.delayMs = this.o.retryMs ?? 500;
    this.connected = true;
    this.o.onState({ connected: true });
  }

  private async ping(): Promise<void> {
    const c = this.client;
    const drop = this.drop;
    if (!c || !drop) return;
    await c.query('SELECT 1').catch((err: Error) => drop(err));
  }
}
