/**
 * Building blocks, records (one ingested image, its model answer and its review state) and the board.
 * Part of the API contract: import it from ../contract.ts, which re-exports it.
 */
import { z } from 'zod';
import { MAX_PAGE_LIMIT, errorInfoSchema } from './results.ts';

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

/** One field of a hand edit of patient id or ear (or of a rename that read them again from the file name). */
export const patientEditSchema = z.object({
  field: z.enum(['patientId', 'ear']),
  from: z.string().nullable(),
  to: z.string().nullable(),
  at: z.string(),
  /**
   * False for an edit kept on a workstation while the clinic database was away and written once it was back,
   * after a newer edit of that record: in the trail at its own time, its value never on the record.
   */
  applied: z.boolean(),
});
export type PatientEdit = z.infer<typeof patientEditSchema>;

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
   * Changes of patient id and ear, oldest first (by time, then as written). Always sent by the engine;
   * optional for older senders.
   */
  patientEdits: z.array(patientEditSchema).optional(),
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
