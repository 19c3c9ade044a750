import type Database from 'better-sqlite3';
import type { Settings, SettingsChange, SettingsPatch } from '../../common/contract.ts';
import { DEFAULT_FILE_NAME_PATTERN, ErrorCodes, settingsSchema } from '../../common/contract.ts';
import { EngineError } from '../util/errors.ts';

export const DEFAULT_SETTINGS: Settings = {
  watchDir: '',
  recursive: true,
  usePolling: false,
  pollIntervalMs: 1000,
  fileNamePattern: DEFAULT_FILE_NAME_PATTERN,
  thresholds: {},
  language: null,
  reviewerName: '',
  clinicName: '',
};

/** Settings live in the database (one JSON value per key) so they are backed up and written atomically. */
export class SettingsStore {
  constructor(private readonly db: Database.Database) {}

  get(): Settings {
    const rows = this.db.prepare('SELECT key, value FROM settings').all() as { key: string; value: string }[];
    const stored: Record<string, unknown> = {};
    for (const r of rows) {
      try {
        stored[r.key] = JSON.parse(r.value);
      } catch {
        // An unreadable value falls back to its default rather than blocking the app.
      }
    }
    const merged = { ...DEFAULT_SETTINGS, ...stored };
    const parsed = settingsSchema.safeParse(merged);
    if (parsed.success) return parsed.data;
    // Keep what is valid field by field.
    const out: Record<string, unknown> = { ...DEFAULT_SETTINGS };
    for (const key of Object.keys(DEFAULT_SETTINGS) as (keyof Settings)[]) {
      const one = settingsSchema.shape[key].safeParse(merged[key]);
      if (one.success) out[key] = one.data;
    }
    return out as Settings;
  }

  /**
   * Applies the patch. A change of any threshold is also recorded with `changedBy` and the time (the
   * thresholds change how every new photo is judged, so they carry an audit trail like reviews).
   */
  update(patch: SettingsPatch, changedBy = 'unnamed'): Settings {
    const current = this.get();
    const next = { ...current, ...patch };
    const parsed = settingsSchema.safeParse(next);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new EngineError(
        ErrorCodes.invalidArgs,
        `Invalid setting ${issue?.path.join('.')}: ${issue?.message}`,
      );
    }
    const at = new Date().toISOString();
    const put = this.db.prepare(
      'INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
    );
    const record = this.db.prepare(
      'INSERT INTO settings_changes (key, old_value, new_value, changed_by, changed_at) VALUES (?, ?, ?, ?, ?)',
    );
    this.db.transaction(() => {
      for (const [key, value] of Object.entries(patch)) {
        if (value !== undefined) put.run(key, JSON.stringify(value), at);
      }
      if (patch.thresholds) {
        const before = current.thresholds;
        const after = parsed.data.thresholds;
        for (const name of new Set([...Object.keys(before), ...Object.keys(after)])) {
          const was = before[name] ?? null;
          const now = after[name] ?? null;
          if (was !== now)
            record.run(`thresholds.${name}`, was, now, changedBy.slice(0, 100) || 'unnamed', at);
        }
      }
    })();
    return parsed.data;
  }

  /** Recorded threshold changes, newest first. */
  changes(): SettingsChange[] {
    const rows = this.db.prepare('SELECT * FROM settings_changes ORDER BY id DESC').all() as {
      id: number;
      key: string;
      old_value: number | null;
      new_value: number | null;
      changed_by: string;
      changed_at: string;
    }[];
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
