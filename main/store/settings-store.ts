import type Database from 'better-sqlite3';
import type { Settings, SettingsPatch } from '../../common/contract.ts';
import { DEFAULT_FILE_NAME_PATTERN, ErrorCodes, settingsSchema } from '../../common/contract.ts';
import { EngineError } from '../util/errors.ts';

export const DEFAULT_SETTINGS: Settings = {
  watchDir: '',
  recursive: true,
  usePolling: false,
  pollIntervalMs: 1000,
  fileNamePattern: DEFAULT_FILE_NAME_PATTERN,
  thresholds: {},
  language: 'ko',
  reviewerName: '',
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

  update(patch: SettingsPatch): Settings {
    const next = { ...this.get(), ...patch };
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
    this.db.transaction(() => {
      for (const [key, value] of Object.entries(patch)) {
        if (value !== undefined) put.run(key, JSON.stringify(value), at);
      }
    })();
    return parsed.data;
  }
}
