/**
 * Settings, the model card and the engine status.
 * Part of the API contract: import it from ../contract.ts, which re-exports it.
 */
import { z } from 'zod';
import { earSchema, labelInfoSchema } from './records.ts';
import { errorInfoSchema } from './results.ts';

// Settings

export const languageSchema = z.enum(['ko', 'en']);
export type Language = z.infer<typeof languageSchema>;

export const settingsSchema = z.object({
  /** Folder the otoscope saves into. Empty string: not configured (the engine does not watch). */
  watchDir: z.string().max(4096),
  recursive: z.boolean(),
  /** Poll instead of OS events; needed for network shares (SMB/NFS send no events). */
  usePolling: z.boolean(),
  pollIntervalMs: z.number().int().min(100).max(60_000),
  /**
   * File-name pattern giving patient id, ear and date. Template tokens: `{patient}`, `{ear}` (L/R, Left/Right,
   * AD/AS, 좌/우), `{date}` (YYYYMMDD, YYYY-MM-DD, YYYY.MM.DD), `{time}` (HHMMSS, HH-MM-SS), `*` (anything),
   * `/` (a folder boundary), `[...]` (optional part). `_`, `-` and space match each other. Matched case-insensitively against the end of
   * the path relative to the watched folder, without the extension. Prefix `re:` for a raw regular
   * expression with named groups `patient`, `ear`, `date`, `time`.
   */
  fileNamePattern: z.string().min(1).max(500),
  /**
   * Overrides of the model card's thresholds, by the card's threshold names (`modelCard.thresholds`).
   * Missing keys use the card's value. At present only `eardrum` (the minimum probability that the picture
   * shows an eardrum) can be overridden; other names answer `invalid_args`.
   */
  thresholds: z.record(z.string(), z.number().min(0).max(1)),
  /**
   * The UI language the user chose, or null until someone chooses one: the UI then follows the browser's
   * (desktop app: the operating system's) language when it is Korean or English, else English.
   */
  language: languageSchema.nullable(),
  /** Default reviewer name filled into review forms. */
  reviewerName: z.string().max(100),
  /** Printed at the top of every report; empty: none. */
  clinicName: z.string().max(200),
});
export type Settings = z.infer<typeof settingsSchema>;

/**
 * Whose each setting is when several rooms share one history (PostgreSQL): `workstation` settings belong to
 * the computer in one room (its otoscope's folder and file names, how it watches, who sits there, its
 * screen's language); `clinic` settings hold for every room (how every photo is judged, the reports' heading).
 * On a workstation's own history (SQLite) every setting is that workstation's and its clinic's at once.
 */
export const settingScopeSchema = z.enum(['workstation', 'clinic']);
export type SettingScope = z.infer<typeof settingScopeSchema>;
export const SETTING_SCOPES = {
  watchDir: 'workstation',
  recursive: 'workstation',
  usePolling: 'workstation',
  pollIntervalMs: 'workstation',
  fileNamePattern: 'workstation',
  language: 'workstation',
  reviewerName: 'workstation',
  thresholds: 'clinic',
  clinicName: 'clinic',
} as const satisfies Record<keyof Settings, SettingScope>;

/** Matches e.g. `12345_L_20261125_093000.jpg`, `P-0012 R 2026-11-25.png`, `12345_R.jpg`. */
export const DEFAULT_FILE_NAME_PATTERN = '{patient}_{ear}[_{date}][_{time}]*';

export const settingsPatchSchema = settingsSchema.partial();

/** The thresholds a user may override (`settings.changeThreshold`); the others are shown, not edited. */
export const EDITABLE_THRESHOLDS = ['eardrum'] as const;

/** One recorded change of a threshold: who changed it, when, from what to what (null: the card's value). */
export const settingsChangeSchema = z.object({
  id: z.number().int(),
  /** `thresholds.<name>`. */
  key: z.string(),
  oldValue: z.number().nullable(),
  newValue: z.number().nullable(),
  changedBy: z.string(),
  changedAt: z.string(),
});
export type SettingsChange = z.infer<typeof settingsChangeSchema>;
export type SettingsPatch = z.infer<typeof settingsPatchSchema>;

export const patternPreviewSchema = z.object({
  matched: z.boolean(),
  patientId: z.string().nullable(),
  ear: earSchema,
  /** ISO date-time (local midnight when only a date matched), or null. */
  capturedAt: z.string().nullable(),
  /** Set when the pattern itself is invalid. */
  error: errorInfoSchema.nullable(),
});
export type PatternPreview = z.infer<typeof patternPreviewSchema>;

// ---------------------------------------------------------------------------------------------------------
// Model card and engine status

export const modelCardViewSchema = z.object({
  id: z.string(),
  version: z.string(),
  backend: z.string(),
  labels: z.array(labelInfoSchema),
  /** Default thresholds by name, each in [0, 1]. */
  thresholds: z.record(z.string(), z.number()),
  /** The full card as shipped (intended use, data, metrics, limitations...), for display. */
  details: z.record(z.string(), z.unknown()),
});
export type ModelCardView = z.infer<typeof modelCardViewSchema>;

export const engineStateSchema = z.enum(['starting', 'running', 'stopped', 'error']);
export type EngineState = z.infer<typeof engineStateSchema>;

/**
 * The history's database as the engine last found it. SQLite is in-process, so always `connected`. With
 * PostgreSQL: `unreachable` since a time (results are kept in a local queue meanwhile), `catching_up` while
 * the queued results are being written once the server is back.
 */
export const databaseConnectionSchema = z.object({
  state: z.enum(['connected', 'unreachable', 'catching_up']),
  /** When the server was first found unreachable (ISO time), or null. */
  since: z.string().nullable(),
  /** Results (photos admitted, diagnoses) held in the local queue, not yet written to the database. */
  waiting: z.number().int(),
});
export type DatabaseConnection = z.infer<typeof databaseConnectionSchema>;

export const engineStatusSchema = z.object({
  state: engineStateSchema,
  /** True while the watched folder is being watched. */
  watching: z.boolean(),
  /** Why the engine or watcher is unhealthy (missing folder, database error...), or null. */
  error: errorInfoSchema.nullable(),
  /** Images waiting for the model (not yet started). */
  queued: z.number().int(),
  /** Images being diagnosed right now (0 or 1 with one model worker). */
  processing: z.number().int(),
  /** Done and failed since the engine started. */
  done: z.number().int(),
  failed: z.number().int(),
  /** Duplicates skipped since the engine started (same bytes already in the library). */
  duplicates: z.number().int(),
  /** Estimated milliseconds until the queue is empty, or null when idle / unknown. */
  etaMs: z.number().nullable(),
  /** Recent mean processing time per image in milliseconds, or null before the first. */
  avgProcessMs: z.number().nullable(),
  database: databaseConnectionSchema,
});
export type EngineStatus = z.infer<typeof engineStatusSchema>;

export const appInfoSchema = z.object({
  appVersion: z.string(),
  contractVersion: z.number().int(),
  /** Which transport serves this API. */
  transport: z.enum(['electron', 'http']),
  dataDir: z.string(),
  watchDir: z.string(),
  model: z
    .object({
      id: z.string(),
      version: z.string(),
      backend: z.string(),
      labelCount: z.number().int(),
    })
    .nullable(),
  engine: engineStatusSchema,
});
export type AppInfo = z.infer<typeof appInfoSchema>;
