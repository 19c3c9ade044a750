import { z } from 'zod';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ModelLoadError } from './errors.ts';

const labelSchema = z.object({ id: z.string(), en: z.string(), ko: z.string(), abnormal: z.boolean() });

/** `model-card.json`: everything needed to run the model the way it was trained, and to judge it. */
export const modelCardSchema = z.object({
  id: z.string(),
  version: z.string(),
  name: z.string(),
  created: z.string(),
  gitRevision: z.string(),
  intendedUse: z.string(),
  labels: z.array(labelSchema).min(2),
  droppedLabels: z.array(z.object({ id: z.string(), reason: z.string() })),
  backbone: z.object({
    id: z.string(),
    origin: z.string(),
    licence: z.string(),
    featureShape: z.array(z.number()),
  }),
  preprocessing: z.object({
    size: z.number().int().positive(),
    framing: z.enum(['fov-circle', 'center-square', 'squash']),
    whiteBalance: z.enum(['none', 'grayworld']),
    mean: z.tuple([z.number(), z.number(), z.number()]),
    std: z.tuple([z.number(), z.number(), z.number()]),
    workSize: z.number().int().positive(),
    notes: z.string(),
  }),
  outputs: z.object({
    /** Feature maps pooled (in this order) into the heads' input; also the class activation map's source. */
    featureMaps: z.array(z.string()).min(1),
    classLogits: z.string(),
    gateLogit: z.string(),
    classKernelLayer: z.string(),
  }),
  calibration: z.object({ method: z.string(), temperature: z.number().positive() }),
  /** When an eardrum answer is "not sure" (model/not-sure.ts); absent in models made before it existed. */
  notSure: z
    .object({
      minConfidence: z.number().min(0).max(1),
      maxUnfamiliarity: z.number().min(0).max(2),
      k: z.number().int().positive(),
      method: z.string(),
      validation: z.record(z.string(), z.unknown()),
    })
    .optional(),
  thresholds: z.object({
    /** Minimum gate probability for "eardrum". */
    eardrum: z.number().min(0).max(1),
    minBrightP95: z.number(),
    maxClipped: z.number(),
    minSharpness: z.number(),
    minSide: z.number(),
  }),
  training: z.record(z.string(), z.unknown()),
  metrics: z.record(z.string(), z.unknown()),
  data: z.array(
    z.object({
      name: z.string(),
      manifest: z.string(),
      sha256: z.string(),
      sources: z.array(z.string()),
      licence: z.string(),
    }),
  ),
  limitations: z.array(z.string()),
  /** Set on a model made by `eardrum adapt` (or the app's "Learn from reviewed photos") from a base model. */
  adaptation: z
    .object({
      base: z.object({ id: z.string(), version: z.string(), name: z.string() }),
      /** When the adaptation ran (ISO date-time). */
      date: z.string(),
      photosPerLabel: z.record(z.string(), z.number().int()),
      /** What was retrained, in words. */
      adapted: z.array(z.string()),
      /** Cross-validated before/after on the adaptation photos (model/adapt/cross-validate.ts). */
      crossValidation: z.record(z.string(), z.unknown()),
      settings: z.record(z.string(), z.unknown()),
    })
    .optional(),
});

export type ModelCard = z.infer<typeof modelCardSchema>;

export async function readModelCard(dir: string): Promise<ModelCard> {
  const file = path.join(dir, 'model-card.json');
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new ModelLoadError(`cannot read ${file}: ${(err as Error).message}`);
  }
  const parsed = modelCardSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ModelLoadError(
      `${file} is not a valid model card: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}`,
    );
  }
  return parsed.data;
}
