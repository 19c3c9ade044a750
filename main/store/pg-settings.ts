import type pg from 'pg';
import type { Settings, SettingsChange, SettingsPatch } from '../../common/contract.ts';
import { inTransaction, type Queryable } from './pg-pool.ts';
import {
  WORKSTATION_SETTING_KEYS,
  isWorkstationSetting,
  nextSettings,
  settingsFromRows,
  thresholdChanges,
  toSettingsChange,
  type SettingsChangeRow,
} from './settings-store.ts';

/**
 * Settings in a history several rooms share: the clinic's in `settings`, each workstation's own in
 * `workstation_settings` under its name (pg-migrations.ts 5), read and written as one `Settings` so the
 * engine and the API need not know which is which (common/contract/settings.ts SETTING_SCOPES decides).
 */
export class PgSettings {
  constructor(
    private readonly pool: pg.Pool,
    private readonly workstation: string,
  ) {}

  private async rows(q: Queryable): Promise<{ key: string; value: string }[]> {
    // A workstation key still in `settings` (left by a version before the split, not adopted yet) is
    // ignored here: it is some room's, not necessarily this one's.
    const r = await q.query<{ key: string; value: string }>(
      `SELECT key, value FROM settings WHERE NOT (key = ANY($1))
       UNION ALL
       SELECT key, value FROM workstation_settings WHERE workstation = $2 AND key = ANY($1)`,
      [WORKSTATION_SETTING_KEYS, this.workstation],
    );
    return r.rows;
  }

  async get(): Promise<Settings> {
    return settingsFromRows(await this.rows(this.pool));
  }

  async update(patch: SettingsPatch, changedBy = 'unnamed'): Promise<Settings> {
    return inTransaction(this.pool, async (c) => {
      // One change at a time clinic-wide: two rooms changing settings together must not lose either's change.
      await c.query('LOCK TABLE settings IN SHARE ROW EXCLUSIVE MODE');
      const current = settingsFromRows(await this.rows(c));
      const next = nextSettings(current, patch);
      const at = new Date().toISOString();
      for (const [key, value] of Object.entries(patch)) {
        if (value === undefined) continue;
        if (isWorkstationSetting(key))
          await c.query(
            `INSERT INTO workstation_settings (workstation, key, value, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (workstation, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
            [this.workstation, key, JSON.stringify(value), at],
          );
        else
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

  async changes(): Promise<SettingsChange[]> {
    const r = await this.pool.query<SettingsChangeRow>('SELECT * FROM settings_changes ORDER BY id DESC');
    return r.rows.map(toSettingsChange);
  }

  /**
   * Before the split every setting was the clinic's, so a shared history may still hold a watched folder
   * and the like in `settings`. The first workstation to start this version takes them as its own (on a
   * history one room used, that room; with several rooms they were everyone's anyway), unless it has its
   * own already (from `eardrum migrate`). Here rather than in the migration, which may run on a connection
   * that is no room's (`eardrum migrate` prepares an empty server). Returns how many were moved.
   */
  async adoptSharedWorkstationSettings(q: Queryable = this.pool): Promise<number> {
    const r = await q.query(
      `WITH moved AS (DELETE FROM settings WHERE key = ANY($1) RETURNING key, value, updated_at)
       INSERT INTO workstation_settings (workstation, key, value, updated_at)
       SELECT $2, key, value, updated_at FROM moved
       ON CONFLICT (workstation, key) DO NOTHING`,
      [WORKSTATION_SETTING_KEYS, this.workstation],
    );
    return r.rowCount ?? 0;
  }
}
