import type Database from 'better-sqlite3';
import type { Settings, SettingsChange, SettingsPatch } from '../../common/contract.ts';
import {
  DEFAULT_FILE_NAME_PATTERN,
  ErrorCodes,
  SETTING_SCOPES,
  settingsSchema,
} from '../../common/contract.ts';
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

export interface SettingsChangeRow {
  id: number;
  key: string;
  old_value: number | null;
  new_value: number | null;
  changed_by: string;
  changed_at: string;
}

/**
 * The keys a shared history keeps per workstation. Every other key is the clinic's, including any a newer
 * version adds before this one knows its scope: shared is what every key was before the split.
 */
export const WORKSTATION_SETTING_KEYS: readonly string[] = Object.entries(SETTING_SCOPES)
  .filter(([, scope]) => scope === 'workstation')
  .map(([key]) => key);

export function isWorkstationSetting(key: string): boolean {
  return WORKSTATION_SETTING_KEYS.includes(key);
}

export function toSettingsChange(r: SettingsChangeRow): SettingsChange {
  return {
    id: r.id,
    key: r.key,
    oldValue: r.old_value,
    newValue: r.new_value,
    changedBy: r.changed_by,
    changedAt: r.changed_at,
  };
}

/** Stored rows (one JSON value per key) over the defaults; an unreadable or invalid value falls back. */
export function settingsFromRows(rows: { key: string; value: string }[]): Settings {
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

/** The settings after a patch, validated. */
export function nextSettings(current: Settings, patch: SettingsPatch): Settings {
  const parsed = settingsSchema.safeParse({ ...current, ...patch });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new EngineError(
      ErrorCodes.invalidArgs,
      `Invalid setting ${issue?.path.join('.')}: ${issue?.message}`,
    );
  }
  return parsed.data;
}

/** Thresholds that differ between two settings, for the audit trail of changes. */
export function thresholdChanges(
  before: Settings,
  after: Settings,
): { key: string; was: number | null; now: number | null }[] {
  const out: { key: string; was: number | null; now: number | null }[] = [];
  const a = before.thresholds;
  const b = after.thresholds;
  for (const name of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const was = a[name] ?? null;
    const now = b[name] ?? null;
    if (was !== now) out.push({ key: `thresholds.${name}`, was, now });
  }
  return out;
}

/**
 * Settings live in the database (one JSON value per key) so they are backed up and written atomically. A
 * SQLite history is one workstation's (its data folder, locked by one engine), so its one table holds both
 * scopes; `eardrum migrate` splits them when the history joins a shared one.
 */
export class SettingsStore {
  constructor(private readonly db: Database.Database) {}

  get(): Settings {
    return settingsFromRows(
      this.db.prepare('SELECT key, value FROM settings').all() as { key: string; value: string }[],
    );
  }

  /**
   * Applies the patch. A change of any threshold is also recorded with `changedBy` and the time (the
   * thresholds change how every new photo is judged, so they carry an audit trail like reviews).
   */
  update(patch: SettingsPatch, changedBy = 'unnamed'): Settings {
    const current = this.get();
    const next = nextSettings(current, patch);
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
        for (const ch of thresholdChanges(current, next))
          record.run(ch.key, ch.was, ch.now, changedBy.slice(0, 100) || 'unnamed', at);
      }
    })();
    return next;
  }

  /** Recorded threshold changes, newest first. */
  changes(): SettingsChange[] {
    const rows = this.db
      .prepare('SELECT * FROM settings_changes ORDER BY id DESC')
      .all() as SettingsChangeRow[];
    return rows.map(toSettingsChange);
  }
}
