import type pg from 'pg';
import type { LabelInfo } from '../../common/contract.ts';
import { isHeld } from './pg-gate.ts';
import type { Queryable } from './pg-pool.ts';
import type { ModelCardRecord } from './store.ts';

/**
 * The model cards a history's diagnoses name. A workstation that started while the server was away
 * (store/pg-gate.ts) keeps the cards it registers meanwhile and writes them once the server is back,
 * before anything else: a start must not wait for the server to name its model.
 */
export class PgModelCards {
  private waiting: ModelCardRecord[] = [];

  constructor(private readonly pool: pg.Pool) {}

  async register(card: ModelCardRecord, q: Queryable = this.pool): Promise<void> {
    if (q === this.pool && isHeld(this.pool)) {
      this.waiting.push(card);
      return;
    }
    await q.query(
      `INSERT INTO models (id, version, labels, card, registered_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT DO NOTHING`,
      [
        card.id,
        card.version,
        JSON.stringify(card.labels),
        JSON.stringify(card.details),
        new Date().toISOString(),
      ],
    );
  }

  /** Writes the cards registered while the server was away, on the connection that migrated. */
  async writeWaiting(q: Queryable): Promise<void> {
    for (const card of this.waiting) await this.register(card, q);
    this.waiting = [];
  }

  async latestLabels(): Promise<LabelInfo[]> {
    const r = await this.pool.query<{ labels: string }>(
      'SELECT labels FROM models ORDER BY registered_at DESC, seq DESC LIMIT 1',
    );
    return r.rows[0] ? (JSON.parse(r.rows[0].labels) as LabelInfo[]) : [];
  }
}
