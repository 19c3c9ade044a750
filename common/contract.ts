/**
 * The one API contract between the renderer and the engine.
 *
 * Every call is a channel: a name mapped to a zod schema for its arguments and one for its result.
 * Three transports carry the same channels and must agree byte for byte on the JSON:
 *   - Electron IPC: `ipcMain.handle(channel)` / `ipcRenderer.invoke(channel, args)` behind a narrow preload
 *     that exposes one named method per channel (see `apiMethods`).
 *   - The HTTP bridge of `eardrum serve`: `POST /api/<channel>` with the JSON args as the body; the response
 *     body is always a `Result` (HTTP status mirrors it: 200 ok, 4xx/5xx with `ok: false`).
 *   - Live events: IPC channel `engine.event`, or Server-Sent Events at `GET /api/events` (one JSON
 *     `EngineEvent` per `data:` line, default `message` event).
 * Errors never travel as thrown exceptions (Electron strips them): every result is `Result<T>`.
 *
 * This module is imported by the renderer: it must stay free of Node, Electron and engine imports.
 * Changes are additive only; names already here are never renamed.
 */
import { z } from 'zod';

export const CONTRACT_VERSION = 1;

// ---------------------------------------------------------------------------------------------------------
// Result envelope

export const errorInfoSchema = z.object({
  /** Stable machine-readable code (see `ErrorCodes`); the UI maps it to Korean/English text. */
  code: z.string(),
  /** Clear English sentence for logs and as a fallback when the UI has no translation for the code. */
  message: z.string(),
});
export type ErrorInfo = z.infer<typeof errorInfoSchema>;

export type Result<T> = { ok: true; value: T } | { ok: false; error: ErrorInfo };

export function resultSchema<T extends z.ZodType>(value: T) {
  return z.discriminatedUnion('ok', [
    z.object({ ok: z.literal(true), value }),
    z.object({ ok: z.literal(false), error: errorInfoSchema }),
  ]);
}

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail(code: string, message: string): { ok: false; error: ErrorInfo } {
  return { ok: false, error: { code, message } };
}

/** Codes the engine and bridge produce. Image input problems are `image.<code>` (empty, not_image, ...). */
export const ErrorCodes = {
  invalidArgs: 'invalid_args',
  notFound: 'not_found',
  unauthorized: 'unauthorized',
  forbidden: 'forbidden',
  tooLarge: 'too_large',
  /** Too many at once (uploads): try again shortly; HTTP answers 429 with `Retry-After`. */
  tooManyRequests: 'too_many_requests',
  unsupported: 'unsupported',
  unknownChannel: 'unknown_channel',
  modelUnavailable: 'model_unavailable',
  readOnly: 'read_only',
  diskFull: 'disk_full',
  databaseLocked: 'database_locked',
  databaseCorrupt: 'database_corrupt',
  ioError: 'io_error',
  cancelled: 'cancelled',
  /** Another long job (adapting the model) is running or waiting for a decision. */
  busy: 'busy',
  internal: 'internal',
} as const;

/** Image input errors from the classifier, prefixed `image.` in `ErrorInfo.code`. */
export const imageErrorCodeSchema = z.enum([
  'empty',
  'not_image',
  'corrupt',
  'too_large',
  'too_small',
  'unsupported',
]);
export type ImageErrorCode = z.infer<typeof imageErrorCodeSchema>;

// ---------------------------------------------------------------------------------------------------------
// Limits shared by both sides (the UI checks early, the engine enforces)

/** Largest image accepted by hand upload or from the watched folder. */
export const MAX_IMAGE_BYTES = 25 * 1024 * 1024;
/** Largest JSON request body on the HTTP bridge (base64 of MAX_IMAGE_BYTES plus room for the rest). */
export const MAX_REQUEST_BYTES = Math.ceil((MAX_IMAGE_BYTES * 4) / 3) + 64 * 1024;
export const MAX_PAGE_LIMIT = 500;

// ---------------------------------------------------------------------------------------------------------
// Building blocks

export const gateSchema = z.enum(['eardrum', 'not_eardrum', 'ungradable']);
export type Gate = z.infer<typeof gateSchema>;

export const earSchema = z.enum(['left', 'right', 'unknown']);
export type Ear = z.infer<typeof earSchema>;

/**
 * `pending`: stored in the library, diagnosis not yet committed (queued, processing, or interrupted by a crash
 * and re-queued at the next start). `done`: diagnosis committed. `failed`: could not be diagnosed; see `failure`.
 */
export const recordStatusSchema = z.enum(['pending', 'done', 'failed']);
export type RecordStatus = z.infer<typeof recordStatusSchema>;

/** How the record entered: found in the watched folder, uploaded by hand, or via the CLI. */
export const recordSourceSchema = z.enum(['watch', 'upload']);
export type RecordSource = z.infer<typeof recordSourceSchema>;

const ISO_DATE_OR_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):?(\d{2}))?)?$/;

/**
 * Whether `value` is a real calendar day (years 1000–9999; no 2026-13-45 or 2026-02-30), optionally with a
 * real time of day and UTC offset (at most ±14:00).
 */
export function isRealIsoDate(value: string): boolean {
  const m = ISO_DATE_OR_DATE_TIME.exec(value);
  if (!m) return false;
  const [y, mo, d, h = 0, mi = 0, s = 0, oh = 0, om = 0] = m
    .slice(1)
    .map((v) => (v === undefined ? 0 : Number(v)));
  if (y! < 1000 || mo! < 1 || mo! > 12 || d! < 1) return false;
  const daysInMonth = new Date(Date.UTC(2000, mo!, 0)).getUTCDate() - (mo === 2 && !isLeap(y!) ? 1 : 0);
  return d! <= daysInMonth && h! <= 23 && mi! <= 59 && s! <= 59 && oh! * 60 + om! <= 14 * 60 && om! <= 59;
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/** ISO 8601 date-time with offset (`2026-11-25T09:30:00.000Z`) or a plain calendar day (`2026-11-25`). */
const isoDateOrDateTime = z
  .string()
  .max(40)
  .refine(isRealIsoDate, 'expected a real date such as 2026-11-25 or 2026-11-25T09:30:00Z');

/**
 * Whether the model stands by its label (`confident`) or hands the photo to a clinician without one
 * (`not_sure`: shown as "Not sure, needs a clinician", the probabilities below it).
 */
export const decisionSchema = z.enum(['confident', 'not_sure']);
export type Decision = z.infer<typeof decisionSchema>;

/** Why an answer is `not_sure`: no label is likely enough, or the photo is unlike the training photos. */
export const notSureReasonSchema = z.enum(['low_confidence', 'unfamiliar']);
export type NotSureReason = z.infer<typeof notSureReasonSchema>;

export const labelInfoSchema = z.object({
  id: z.string(),
  en: z.string(),
  ko: z.string(),
  abnormal: z.boolean(),
});
export type LabelInfo = z.infer<typeof labelInfoSchema>;

// ---------------------------------------------------------------------------------------------------------
// Records (one ingested image, its latest model answer and its review state)

export const recordSummarySchema = z.object({
  id: z.number().int(),
  sha256: z.string(),
  /** Original file name (no folders). */
  fileName: z.string(),
  /** Original path as seen when ingested; the file may no longer exist there. */
  originalPath: z.string(),
  source: recordSourceSchema,
  /** From EXIF DateTimeOriginal when present, else the file's mtime; ISO date-time. */
  capturedAt: z.string(),
  ingestedAt: z.string(),
  status: recordStatusSchema,
  failure: errorInfoSchema.nullable(),
  patientId: z.string().nullable(),
  ear: earSchema,
  gate: gateSchema.nullable(),
  gateReason: z.string().nullable(),
  /** The model's top label (null unless gate is `eardrum`). Never changed by reviews. */
  modelLabel: z.string().nullable(),
  /** Probability of `modelLabel`. */
  confidence: z.number().nullable(),
  /**
   * The model's decision: null unless gate is `eardrum`, and for results of models without a not-sure rule
   * (results recorded before it existed). Never changed by reviews.
   */
  decision: decisionSchema.nullable(),
  /** Label from the latest review, or null when never reviewed. */
  reviewedLabel: z.string().nullable(),
  /** `reviewedLabel ?? modelLabel`: what the board shows and filters on. */
  effectiveLabel: z.string().nullable(),
  /** Whether `effectiveLabel` is an abnormal label (null when there is no label). */
  abnormal: z.boolean().nullable(),
  reviewed: z.boolean(),
  reviewCount: z.number().int(),
  lastReviewer: z.string().nullable(),
  width: z.number().int().nullable(),
  height: z.number().int().nullable(),
  hasOverlay: z.boolean(),
  /** Whether the library holds a copy of the image (false for files too large to keep, for instance). */
  hasOriginal: z.boolean(),
  /** Whether a thumbnail could be made (false for files that are not readable images). */
  hasThumbnail: z.boolean(),
});
export type RecordSummary = z.infer<typeof recordSummarySchema>;

export const heatmapGridSchema = z.object({
  rows: z.number().int(),
  cols: z.number().int(),
  /** Row-major values in [0, 1] for the model's top label. */
  values: z.array(z.number()),
});
export type HeatmapGrid = z.infer<typeof heatmapGridSchema>;

export const diagnosisViewSchema = z.object({
  id: z.number().int(),
  modelId: z.string(),
  modelVersion: z.string(),
  backend: z.string(),
  gate: gateSchema,
  gateReason: z.string().nullable(),
  eardrumProbability: z.number(),
  label: z.string().nullable(),
  /** Every label of the model card; empty unless gate is `eardrum`. */
  probabilities: z.record(z.string(), z.number()),
  /** As `RecordSummary.decision`. */
  decision: decisionSchema.nullable(),
  /** Empty unless `decision` is `not_sure`. */
  notSureReasons: z.array(notSureReasonSchema),
  /** Distance from the training photos in feature space; null when not measured. */
  unfamiliarity: z.number().nullable(),
  heatmap: heatmapGridSchema.nullable(),
  timings: z.object({ decodeMs: z.number(), inferenceMs: z.number(), totalMs: z.number() }),
  createdAt: z.string(),
});
export type DiagnosisView = z.infer<typeof diagnosisViewSchema>;

export const reviewActionSchema = z.enum(['confirm', 'override']);
export type ReviewAction = z.infer<typeof reviewActionSchema>;

export const reviewSchema = z.object({
  id: z.number().int(),
  recordId: z.number().int(),
  action: reviewActionSchema,
  /** The label the clinician settled on (for `confirm`, the model's label at that time). */
  label: z.string().nullable(),
  note: z.string(),
  reviewer: z.string(),
  createdAt: z.string(),
});
export type Review = z.infer<typeof reviewSchema>;

export const recordDetailSchema = z.object({
  record: recordSummarySchema,
  image: z.object({
    sizeBytes: z.number().int(),
    width: z.number().int().nullable(),
    height: z.number().int().nullable(),
    format: z.string().nullable(),
  }),
  /** The latest model answer; null while pending or when the image failed. */
  diagnosis: diagnosisViewSchema.nullable(),
  /** Append-only audit trail, oldest first. */
  reviews: z.array(reviewSchema),
  /**
   * Other records of the same photo: the same bytes saved under another file name (another patient, ear or
   * capture time). Each is its own record with its own reviews; all share one stored copy and one diagnosis.
   * Always sent by the engine (empty when the photo came once); optional for older senders.
   */
  samePhoto: z
    .array(
      z.object({
        id: z.number().int(),
        fileName: z.string(),
        patientId: z.string().nullable(),
        ear: earSchema,
        capturedAt: z.string(),
      }),
    )
    .optional(),
});
export type RecordDetail = z.infer<typeof recordDetailSchema>;

// ---------------------------------------------------------------------------------------------------------
// Board filters, sort and paging

export const recordFilterSchema = z.object({
  /** Inclusive lower bound on `capturedAt`. A plain day means the start of that day in `utcOffsetMinutes`. */
  from: isoDateOrDateTime.optional(),
  /** Exclusive upper bound on `capturedAt`. A plain day means the END of that day (so from=to=day is one day). */
  to: isoDateOrDateTime.optional(),
  /** Matches `effectiveLabel` (any of). */
  labels: z.array(z.string().max(64)).max(50).optional(),
  gates: z.array(gateSchema).optional(),
  statuses: z.array(recordStatusSchema).optional(),
  /** Exact patient id; use `text` for partial matches. */
  patientId: z.string().max(128).optional(),
  ear: earSchema.optional(),
  reviewed: z.boolean().optional(),
  abnormal: z.boolean().optional(),
  /** The model's decision (records without one match neither value). */
  decision: decisionSchema.optional(),
  /** Case-insensitive substring of file name, patient id, labels or review notes. */
  text: z.string().max(200).optional(),
  /** Minutes east of UTC used to interpret plain days (`-new Date().getTimezoneOffset()` in a browser). */
  utcOffsetMinutes: z.number().int().min(-840).max(840).optional(),
});
export type RecordFilter = z.infer<typeof recordFilterSchema>;

export const sortFieldSchema = z.enum([
  'capturedAt',
  'ingestedAt',
  'patientId',
  'ear',
  'effectiveLabel',
  'confidence',
  'fileName',
  'status',
]);
export type SortField = z.infer<typeof sortFieldSchema>;

export const recordSortSchema = z.object({
  field: sortFieldSchema,
  direction: z.enum(['asc', 'desc']),
});
export type RecordSort = z.infer<typeof recordSortSchema>;

export const listRecordsArgsSchema = z.object({
  filter: recordFilterSchema.default({}),
  sort: recordSortSchema.default({ field: 'capturedAt', direction: 'desc' }),
  offset: z.number().int().min(0).default(0),
  limit: z.number().int().min(1).max(MAX_PAGE_LIMIT).default(50),
});

export const recordPageSchema = z.object({
  items: z.array(recordSummarySchema),
  /** Number of records matching the filter (all pages). */
  total: z.number().int(),
  offset: z.number().int(),
  limit: z.number().int(),
});
export type RecordPage = z.infer<typeof recordPageSchema>;

/** A visit: one patient's photos of one calendar day, with the latest photo of each ear. */
export const visitSummarySchema = z.object({
  patientId: z.string(),
  /** Calendar day in the filter's `utcOffsetMinutes`, `YYYY-MM-DD`. */
  day: z.string(),
  firstCapturedAt: z.string(),
  lastCapturedAt: z.string(),
  /** Photos of the patient on that day (matching the filter). */
  count: z.number().int(),
  /** The latest photo of each ear on that day, whatever the filter; null when there is none. */
  left: recordSummarySchema.nullable(),
  right: recordSummarySchema.nullable(),
  /** Photos of that day whose ear is not known. */
  unknownEar: z.number().int(),
});
export type VisitSummary = z.infer<typeof visitSummarySchema>;

export const visitPageSchema = z.object({
  /** Newest visit first. */
  items: z.array(visitSummarySchema),
  total: z.number().int(),
  offset: z.number().int(),
  limit: z.number().int(),
  /** Records matching the filter that have no patient id, so belong to no visit. */
  withoutPatient: z.number().int(),
});
export type VisitPage = z.infer<typeof visitPageSchema>;

/**
 * Chart buckets: the effective label for eardrum images, else `not_eardrum` / `ungradable` (the gate),
 * `failed` for failed records and `pending` for records still waiting.
 */
export const countsPerDaySchema = z.object({
  /** Every bucket key appearing in `days`, in a stable order (model labels first, in card order). */
  keys: z.array(z.string()),
  days: z.array(
    z.object({
      /** Calendar day in `utcOffsetMinutes`. */
      day: z.string(),
      counts: z.record(z.string(), z.number().int()),
      total: z.number().int(),
    }),
  ),
});
export type CountsPerDay = z.infer<typeof countsPerDaySchema>;

// ---------------------------------------------------------------------------------------------------------
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

// ---------------------------------------------------------------------------------------------------------
// Learning from reviewed photos (adapting the model to the clinic's otoscope)

/** Held-out photos counted: right = called an eardrum and given the reviewed label; rejected = "not an eardrum". */
export const adaptTallySchema = z.object({ right: z.number().int(), rejected: z.number().int() });
export type AdaptTally = z.infer<typeof adaptTallySchema>;

/** Cross-validated before (the shipped model) / after (the adapted heads) on the photos used. */
export const adaptComparisonSchema = z.object({
  folds: z.number().int(),
  photos: z.number().int(),
  before: adaptTallySchema,
  after: adaptTallySchema,
  perLabel: z.array(
    z.object({
      label: z.string(),
      photos: z.number().int(),
      before: adaptTallySchema,
      after: adaptTallySchema,
    }),
  ),
});
export type AdaptComparison = z.infer<typeof adaptComparisonSchema>;

/** A model the engine can use: the shipped one, or one adapted from reviewed photos (in the data folder). */
export const modelEntrySchema = z.object({
  id: z.string(),
  version: z.string(),
  kind: z.enum(['shipped', 'adapted']),
  /** ISO date-time the model was made. */
  createdAt: z.string(),
  /** For an adapted model, the model it was adapted from. */
  baseId: z.string().nullable(),
  /** For an adapted model, the reviewed photos per label it learned from. */
  photosPerLabel: z.record(z.string(), z.number().int()),
  comparison: adaptComparisonSchema.nullable(),
  active: z.boolean(),
});
export type ModelEntry = z.infer<typeof modelEntrySchema>;

export const adaptPhaseSchema = z.enum(['photos', 'cross-validation', 'training', 'writing']);
export type AdaptPhase = z.infer<typeof adaptPhaseSchema>;

/**
 * The adaptation job. `running` while the model worker adapts (diagnoses keep going between its steps);
 * `ready` when a new model waits for "Use this model" / "Keep the current one"; `failed` with `error`.
 */
export const adaptJobSchema = z.object({
  state: z.enum(['idle', 'running', 'ready', 'failed']),
  phase: adaptPhaseSchema.nullable(),
  /** Work units done and in all (photos read, fitting iterations). */
  done: z.number().int(),
  total: z.number().int(),
  startedAt: z.string().nullable(),
  /** Photos the job learns from, per label. */
  photosPerLabel: z.record(z.string(), z.number().int()),
  /** The adapted model waiting for a decision (state `ready`). */
  candidate: modelEntrySchema.nullable(),
  error: errorInfoSchema.nullable(),
});
export type AdaptJob = z.infer<typeof adaptJobSchema>;

export const learningSummarySchema = z.object({
  /**
   * Reviewed photos per model label, by their latest review: a confirm counts as the model's label, an
   * override as the clinician's. Every label of the model appears (0 when none).
   */
  reviewed: z.array(z.object({ label: z.string(), photos: z.number().int() })),
  /** A label takes part once it has this many reviewed photos. */
  minPerLabel: z.number().int(),
  /** Adaptation needs this many usable photos in all. */
  minTotal: z.number().int(),
  /** Reviewed photos in labels that take part. */
  usable: z.number().int(),
  canStart: z.boolean(),
  /** The shipped model first, then adapted ones, newest first. */
  models: z.array(modelEntrySchema),
  activeModelId: z.string(),
  job: adaptJobSchema,
});
export type LearningSummary = z.infer<typeof learningSummarySchema>;

// ---------------------------------------------------------------------------------------------------------
// Live events

export const engineEventSchema = z.discriminatedUnion('type', [
  /** Sent first on every new subscription and whenever counts change without another event. */
  z.object({ type: z.literal('status'), status: engineStatusSchema }),
  z.object({ type: z.literal('queued'), path: z.string(), status: engineStatusSchema }),
  z.object({
    type: z.literal('processing'),
    path: z.string(),
    recordId: z.number().int(),
    status: engineStatusSchema,
  }),
  /** A record was diagnosed and committed: a new row for the board. */
  z.object({ type: z.literal('done'), record: recordSummarySchema, status: engineStatusSchema }),
  /** An image could not be diagnosed; `record` is null when nothing could be stored (e.g. unreadable file). */
  z.object({
    type: z.literal('failed'),
    path: z.string(),
    error: errorInfoSchema,
    record: recordSummarySchema.nullable(),
    status: engineStatusSchema,
  }),
  /** The same bytes were already in the library: nothing new was diagnosed. */
  z.object({
    type: z.literal('duplicate'),
    path: z.string(),
    recordId: z.number().int(),
    status: engineStatusSchema,
  }),
  /** A record changed after the fact (review added, patient/ear edited). */
  z.object({ type: z.literal('record.updated'), record: recordSummarySchema }),
  z.object({ type: z.literal('settings'), settings: settingsSchema }),
  /** Progress or outcome of "Learn from reviewed photos". */
  z.object({ type: z.literal('learn.progress'), job: adaptJobSchema }),
  /** The engine switched model: new results carry this model; older results keep theirs. */
  z.object({ type: z.literal('model.changed'), modelId: z.string(), version: z.string() }),
]);
export type EngineEvent = z.infer<typeof engineEventSchema>;

// ---------------------------------------------------------------------------------------------------------
// Channels

const empty = z.object({}).default({});

export const addReviewArgsSchema = z
  .object({
    recordId: z.number().int(),
    action: reviewActionSchema,
    /** Required for `override`; ignored for `confirm` (the model's label is recorded). */
    label: z.string().min(1).max(64).optional(),
    note: z.string().max(2000).default(''),
    reviewer: z.string().trim().min(1).max(100),
  })
  .refine((a) => a.action === 'confirm' || a.label !== undefined, {
    message: 'an override needs a label',
    path: ['label'],
  });

export const exportCsvArgsSchema = z.object({
  filter: recordFilterSchema.default({}),
  sort: recordSortSchema.default({ field: 'capturedAt', direction: 'asc' }),
  /** Column header language; the data itself is language-neutral ids. */
  language: languageSchema.default('en'),
});

export const channels = {
  /** Versions, folders, model summary and engine status. */
  'app.info': { args: empty, result: appInfoSchema },
  'model.card': { args: empty, result: modelCardViewSchema },
  /** One page of the board. */
  'records.list': { args: listRecordsArgsSchema, result: recordPageSchema },
  'records.get': { args: z.object({ id: z.number().int() }), result: recordDetailSchema },
  /** The board grouped by visit (patient and day); records without a patient id are counted, not listed. */
  'records.visits': {
    args: z.object({
      filter: recordFilterSchema.default({}),
      offset: z.number().int().min(0).default(0),
      limit: z.number().int().min(1).max(200).default(50),
    }),
    result: visitPageSchema,
  },
  'records.countsPerDay': {
    args: z.object({ filter: recordFilterSchema.default({}) }),
    result: countsPerDaySchema,
  },
  /** Sets patient id and ear by hand (null patient clears it). */
  'records.updatePatient': {
    args: z.object({
      id: z.number().int(),
      patientId: z.string().trim().max(128).nullable(),
      ear: earSchema,
    }),
    result: recordDetailSchema,
  },
  /** Appends a review; the model's original answer is never changed. */
  'reviews.add': { args: addReviewArgsSchema, result: recordDetailSchema },
  /**
   * Diagnoses an image chosen by hand. It is stored in the library like a watched file; the same bytes
   * return the existing record with `duplicate: true`.
   */
  'diagnose.upload': {
    args: z.object({
      fileName: z.string().min(1).max(255),
      /** Base64 of the file's bytes, at most MAX_IMAGE_BYTES decoded. */
      dataBase64: z.string().min(1).max(MAX_REQUEST_BYTES),
      patientId: z.string().trim().max(128).nullable().optional(),
      ear: earSchema.optional(),
    }),
    result: z.object({ record: recordDetailSchema, duplicate: z.boolean() }),
  },
  'settings.get': { args: empty, result: settingsSchema },
  /** Applies the given fields (validated as a whole) and restarts the watcher when folder options changed. */
  'settings.update': { args: settingsPatchSchema, result: settingsSchema },
  /**
   * Changes one threshold (null: back to the model card's value) and records who did it and when. Only
   * the names in EDITABLE_THRESHOLDS; others answer `invalid_args`.
   */
  'settings.changeThreshold': {
    args: z.object({
      name: z.string().min(1).max(64),
      value: z.number().min(0).max(1).nullable(),
      changedBy: z.string().trim().min(1).max(100),
    }),
    result: settingsSchema,
  },
  /** Every recorded threshold change, newest first. */
  'settings.changes': { args: empty, result: z.array(settingsChangeSchema) },
  /** Parses a sample path with a pattern without saving anything. */
  'settings.previewPattern': {
    args: z.object({ pattern: z.string().min(1).max(500), sample: z.string().min(1).max(1024) }),
    result: patternPreviewSchema,
  },
  /**
   * CSV of every record matching the filter. Electron: main asks for the path with a save dialog, writes
   * the file and returns it (`path` null when the user cancelled). HTTP: use `exportCsvUrl` (a download).
   */
  'export.csv': {
    args: exportCsvArgsSchema,
    result: z.object({ path: z.string().nullable(), rows: z.number().int() }),
  },
  /**
   * Electron only: prints the window's current page (the report view) to PDF with `webContents.printToPDF`,
   * asks where to save it and writes it; `path` null when the user cancelled. The HTTP bridge answers
   * `unsupported` (a browser prints the report with its own print dialog, "Save as PDF").
   */
  'report.savePdf': {
    args: z.object({
      suggestedName: z.string().regex(/^[\w.-]{1,120}\.pdf$/, 'a plain file name ending in .pdf'),
    }),
    result: z.object({ path: z.string().nullable() }),
  },
  /** Electron only (folder picker); the HTTP bridge answers `unsupported`. */
  'dialog.chooseWatchDir': { args: empty, result: z.object({ path: z.string().nullable() }) },
  /** Re-queues a failed record from its stored copy (e.g. after a model update). */
  'records.retry': { args: z.object({ id: z.number().int() }), result: recordSummarySchema },
  /** Reviewed photos per label, the models to choose from, and the adaptation job. */
  'learn.summary': { args: empty, result: learningSummarySchema },
  /**
   * Starts adapting the shipped model to the reviewed photos in the model worker (results keep coming);
   * progress arrives as `learn.progress` events. `invalid_args` when there are too few photos, `busy`
   * when a job is running or waiting for a decision.
   */
  'learn.start': { args: empty, result: adaptJobSchema },
  /** Stops a running job; nothing is kept. */
  'learn.cancel': { args: empty, result: adaptJobSchema },
  /** "Use this model" (`use: true`) or "Keep the current one" (`use: false`, the new model is deleted). */
  'learn.decide': { args: z.object({ use: z.boolean() }), result: learningSummarySchema },
  /** Switches to a model of `learn.summary`'s list (the shipped one to go back). New results use it. */
  'models.use': { args: z.object({ id: z.string().min(1).max(200) }), result: learningSummarySchema },
} as const satisfies Record<string, { args: z.ZodType; result: z.ZodType }>;

export type Channels = typeof channels;
export type ChannelName = keyof Channels;
/** What a caller passes (defaults may be omitted). */
export type ArgsOf<C extends ChannelName> = z.input<Channels[C]['args']>;
/** What a handler receives after validation (defaults filled in). */
export type ParsedArgsOf<C extends ChannelName> = z.output<Channels[C]['args']>;
export type ResultOf<C extends ChannelName> = z.output<Channels[C]['result']>;

export const channelNames = Object.keys(channels) as ChannelName[];

export function isChannelName(name: string): name is ChannelName {
  return Object.prototype.hasOwnProperty.call(channels, name);
}

/** Handlers on the main side: one per channel, given validated args. */
export type Handlers = { [C in ChannelName]: (args: ParsedArgsOf<C>) => Promise<ResultOf<C>> };

/** IPC channel for pushed engine events (main → renderer). */
export const EVENT_CHANNEL = 'engine.event';

/** Named methods of the renderer-facing API (the narrow preload exposes exactly these). */
export const apiMethods = {
  appInfo: 'app.info',
  modelCard: 'model.card',
  listRecords: 'records.list',
  getRecord: 'records.get',
  countsPerDay: 'records.countsPerDay',
  listVisits: 'records.visits',
  updatePatient: 'records.updatePatient',
  addReview: 'reviews.add',
  diagnoseUpload: 'diagnose.upload',
  getSettings: 'settings.get',
  updateSettings: 'settings.update',
  previewPattern: 'settings.previewPattern',
  changeThreshold: 'settings.changeThreshold',
  settingsChanges: 'settings.changes',
  exportCsv: 'export.csv',
  chooseWatchDir: 'dialog.chooseWatchDir',
  saveReportPdf: 'report.savePdf',
  retryRecord: 'records.retry',
  learningSummary: 'learn.summary',
  startLearning: 'learn.start',
  cancelLearning: 'learn.cancel',
  decideLearning: 'learn.decide',
  useModel: 'models.use',
} as const satisfies Record<string, ChannelName>;

export type ApiMethodName = keyof typeof apiMethods;

export type EardrumApi = {
  [M in ApiMethodName]: (
    args: ArgsOf<(typeof apiMethods)[M]>,
  ) => Promise<Result<ResultOf<(typeof apiMethods)[M]>>>;
} & {
  /** Subscribes to live engine events; returns the unsubscribe function. */
  onEvent(listener: (event: EngineEvent) => void): () => void;
};

// ---------------------------------------------------------------------------------------------------------
// URLs (HTTP bridge and Electron custom protocol)

export const fileKindSchema = z.enum(['original', 'thumbnail', 'overlay']);
export type FileKind = z.infer<typeof fileKindSchema>;

/** Custom protocol registered by the Electron shell; files are `eardrum-file://app/files/<kind>/<id>`. */
export const FILE_PROTOCOL = 'eardrum-file';
export const FILE_PROTOCOL_BASE = `${FILE_PROTOCOL}://app`;

export const HTTP_API_PREFIX = '/api/';
export const HTTP_EVENTS_PATH = '/api/events';
export const HTTP_EXPORT_PATH = '/api/export.csv';
/**
 * HTTP only, for a bridge bound beyond loopback with a password: `POST` `{ password }` → `Result<{ token }>`.
 * Wrong passwords answer 401; too many from one address answer 429 for a minute.
 */
export const HTTP_LOGIN_PATH = '/api/auth.login';
export const loginArgsSchema = z.object({ password: z.string().max(1024) });
export const loginResultSchema = z.object({ token: z.string() });
/**
 * Query parameter of the URL `eardrum serve` prints. Opening it trades the token for an HttpOnly,
 * SameSite=Strict session cookie and redirects to the same page without it; after that the page, its
 * images, events and downloads authenticate with the cookie. Scripts send `Authorization: Bearer <token>`.
 * `/api` and `/files` do not read the token from the query (it would stay in URLs, history and logs).
 */
export const TOKEN_QUERY = 'token';

/** `/files/<kind>/<id>`: the path both transports understand. */
export function filePath(kind: FileKind, id: number): string {
  return `/files/${kind}/${id}`;
}

/**
 * URL of a stored image. HTTP: `fileUrl(kind, id, { base: 'http://127.0.0.1:8400', token })`;
 * Electron: `fileUrl(kind, id, { base: FILE_PROTOCOL_BASE })`.
 */
export function fileUrl(kind: FileKind, id: number, opts: { base: string; token?: string }): string {
  return withToken(`${opts.base.replace(/\/+$/, '')}${filePath(kind, id)}`, opts.token);
}

/** `GET /api/events?token=...` for EventSource. */
export function eventsUrl(opts: { base: string; token?: string }): string {
  return withToken(`${opts.base.replace(/\/+$/, '')}${HTTP_EVENTS_PATH}`, opts.token);
}

/**
 * `GET /api/export.csv?token=...&args=<JSON of export.csv args>`: the CSV as an attachment
 * (`POST /api/export.csv` with the JSON body answers the same download).
 */
export function exportCsvUrl(args: ArgsOf<'export.csv'>, opts: { base: string; token?: string }): string {
  const url = `${opts.base.replace(/\/+$/, '')}${HTTP_EXPORT_PATH}?args=${encodeURIComponent(JSON.stringify(args))}`;
  return withToken(url, opts.token);
}

function withToken(url: string, token: string | undefined): string {
  if (!token) return url;
  return `${url}${url.includes('?') ? '&' : '?'}${TOKEN_QUERY}=${encodeURIComponent(token)}`;
}

/** Parses and validates a channel's args; returns the invalid_args error in the envelope on failure. */
export function parseArgs<C extends ChannelName>(channel: C, raw: unknown): Result<ParsedArgsOf<C>> {
  const parsed = channels[channel].args.safeParse(raw ?? {});
  if (parsed.success) return { ok: true, value: parsed.data as ParsedArgsOf<C> };
  const first = parsed.error.issues[0];
  const where = first && first.path.length > 0 ? `${first.path.join('.')}: ` : '';
  return fail(
    ErrorCodes.invalidArgs,
    `Invalid arguments for ${channel}: ${where}${first?.message ?? 'invalid'}`,
  );
}
