/**
 * The answer to a write the clinic database could not take (PostgreSQL unreachable) that this workstation
 * kept in its local queue instead: written, with its original time and author, once the server is back.
 * Part of the API contract: import it from ../contract.ts.
 */
import { z } from 'zod';
import { decisionSchema, gateSchema } from './records.ts';
import { errorInfoSchema } from './results.ts';

export const savedLocallySchema = z.object({
  savedLocally: z.literal(true),
  /** When it was made here (ISO): the time it is written with. */
  at: z.string(),
  /** Entries waiting in this workstation's local queue, this one included. */
  waiting: z.number().int().min(0),
});
export type SavedLocally = z.infer<typeof savedLocallySchema>;

/** A review or a patient edit kept locally (`reviews.add`, `records.updatePatient`). */
export const editSavedLocallySchema = savedLocallySchema.extend({ recordId: z.number().int() });
export type EditSavedLocally = z.infer<typeof editSavedLocallySchema>;

/** A photo chosen by hand, diagnosed from its copy here, kept locally with the model's answer. */
export const uploadSavedLocallySchema = savedLocallySchema.extend({
  fileName: z.string(),
  /** The model's answer; null when the photo could not be diagnosed (then `failure` says why). */
  answer: z
    .object({
      gate: gateSchema,
      label: z.string().nullable(),
      /** The label's probability; null without a label. */
      confidence: z.number().nullable(),
      decision: decisionSchema.nullable(),
    })
    .nullable(),
  failure: errorInfoSchema.nullable(),
});
export type UploadSavedLocally = z.infer<typeof uploadSavedLocallySchema>;

/** Whether an answer is a write kept locally rather than the written record. */
export function isSavedLocally<T extends object>(v: T): v is Extract<T, SavedLocally> {
  return (v as Partial<SavedLocally>).savedLocally === true;
}
