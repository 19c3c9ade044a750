/**
 * Learning from reviewed photos (adapting the model to the clinic's otoscope) and the live events.
 * Part of the API contract: import it from ../contract.ts, which re-exports it.
 */
import { z } from 'zod';
import { engineStatusSchema, settingsSchema } from './settings.ts';
import { errorInfoSchema } from './results.ts';
import { recordSummarySchema } from './records.ts';

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
