import type pg from 'pg';
import type {
  CountsPerDay,
  LabelInfo,
  RecordFilter,
  RecordPage,
  RecordSort,
  Settings,
  SettingsChange,
  SettingsPatch,
} from '../../common/contract.ts';
import { buildOrder, buildWhere } from './filters.ts';
import { inTransaction, positional } from './pg-pool.ts';
import { countsFromBuckets } from './record-queries.ts';
import { EXPORT_COLUMNS, EXPORT_SQL, toSummary, type ExportRow, type ImageRow } from './record-rows.ts';
import {
  nextSettings,
  settingsFromRows,
  thresholdChanges,
  type SettingsChangeRow,
} from './settings-store.ts';

const EXPORT_BATCH = 2000;

/** The board's queries and the settings on PostgreSQL (the same filters as SQLite, as `$n` parameters). */
export class PgQueries {
  constructor(
    private readonly pool: pg.Pool,
    private readonly labels: () => LabelInfo[],
  ) {}

  async list(args: {
    filter: RecordFilter;
    sort: RecordSort;
    offset: number;
    limit: number;
  }): Promise<RecordPage> {
    const where = buildWhere(args.filter, '', 'postgres');
    const count = positional(`SELECT count(*)::int AS n FROM images ${where.sql}`, where.params);
    const page = positional(
      `SELECT * FROM images ${where.sql} ${buildOrder(args.sort)} LIMIT @limit OFFSET @offset`,
      {
        ...where.params,
        limit: args.limit,
        offset: args.offset,
      },
    );
    const [total, rows] = await Promise.all([
      this.pool.query<{ n: number }>(count),
      this.pool.query<ImageRow>(page),
    ]);
    return {
      items: rows.rows.map(toSummary),
      total: total.rows[0]!.n,
      offset: args.offset,
      limit: args.limit,
    };
  }

  async countsPerDay(filter: RecordFilter): Promise<CountsPerDay> {
    const where = buildWhere(filter, '', 'postgres');
    const offsetMs = Math.trunc(filter.utcOffsetMinutes ?? 0) * 60_000;
    const q = positional(
      `SELECT ((captured_ms + ${offsetMs}) / 86400000)::int AS "dayNumber",
         CASE WHEN effective_label IS NOT NULL THEN effective_label
              WHEN status <> 'done' THEN status
              ELSE coalesce(gate, 'unknown') END AS bucket,
         count(*)::int AS n
       FROM images ${where.sql} GROUP BY 1, 2 ORDER BY 1`,
      where.params,
    );
    const rows = (await this.pool.query<{ dayNumber: number; bucket: string; n: number }>(q)).rows;
    return countsFromBuckets(rows, this.labels());
  }

  /** One snapshot (REPEATABLE READ) read through a cursor, a batch at a time: the engine keeps writing. */
  async *exportRows(filter: RecordFilter, sort: RecordSort): AsyncGenerator<ExportRow[]> {
    const where = buildWhere(filter, 'i.', 'postgres');
    const q = positional(
      `DECLARE export_rows NO SCROLL CURSOR FOR
       SELECT ${EXPORT_COLUMNS.map((c) => EXPORT_SQL[c]).join(', ')}
       FROM images i
       LEFT JOIN diagnoses d ON d.id = i.diagnosis_id
       LEFT JOIN LATERAL (SELECT note FROM reviews r WHERE r.image_id = i.id ORDER BY r.id DESC LIMIT 1) n ON true
       ${where.sql} ${buildOrder(sort, 'i.')}`,
      where.params,
    );
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await c.query(q);
      for (;;) {
        const r = await c.query<ExportRow>({
          text: `FETCH ${EXPORT_BATCH} FROM export_rows`,
          rowMode: 'array',
        });
        if (r.rows.length === 0) break;
        yield r.rows;
      }
      await c.query('COMMIT');
    } finally {
      await c.query('ROLLBACK').catch(() => undefined);
      c.release();
    }
  }

  async counts(): Promise<{ total: number; done: number; failed: number; pending: number }> {
    const rows = (
      await this.pool.query<{ status: string; n: number }>(
        'SELECT status, count(*)::int AS n FROM images GROUP BY status',
      )
    ).rows;
    const c = { total: 0, done: 0, failed: 0, pending: 0 };
    for (const r of rows) {
      c.total += r.n;
      if (r.status === 'done' || r.status === 'failed' || r.status === 'pending') c[r.status] = r.n;
    }
    return c;
  }

  async getSettings(): Promise<Settings> {
    return settingsFromRows(
      (await this.pool.query<{ key: string; value: string }>('SELECT key, value FROM settings')).rows,
    );
  }

  async updateSettings(patch: SettingsPatch, changedBy = 'unnamed'): Promise<Settings> {
    return inTransaction(this.pool, async (c) => {
      // One room at a time: two rooms changing settings together must not lose either's change.
      await c.query('LOCK TABLE settings IN SHARE ROW EXCLUSIVE MODE');
      const current = settingsFromRows(
        (await c.query<{ key: string; value: string }>('SELECT key, value FROM settings')).rows,
      );
      const next = nextSettings(current, patch);
      const at = new Date().toISOString();
      for (const [key, value] of Object.entries(patch)) {
        if (value === undefined) continue;
        await c.query(
          `INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3)
           ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
          [key, JSON.stringify(value), at],
        );
      }
      if (patch.thresholds) {
        for (const ch of thresholdChanges(current, next)) {
          await c.query(
            'INSERT INTO settings_changes (key, old_value, new_value, changed_by, changed_at) VALUES ($1, $2, $3, $4, $5)',
            [ch.key, ch.was, ch.now, changedBy.slice(0, 100) || 'unnamed', at],
          );
        }
      }
      return next;
    });
  }

  async settingsChanges(): Promise<SettingsChange[]> {
    const rows = (await this.pool.query<SettingsChangeRow>('SELECT * FROM settings_changes ORDER BY id DESC'))
      .rows;
    return rows.map((r) => ({
      id: r.id,
      key: r.key,
      oldValue: r.old_value,
      newValue: r.new_value,
      changedBy: r.changed_by,
      changedAt: r.changed_at,
    }));
  }
}
