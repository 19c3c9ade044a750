import type { UploadSavedLocally } from '../../../common/contract.ts';
import { ErrorCodes } from '../../../common/contract.ts';
import { EngineError } from '../../util/errors.ts';
import type { Admitted, AdmitStage, UploadMeta } from './admit.ts';
import type { CatchUp } from './catch-up.ts';
import type { Classified } from './classify.ts';

export interface UploadAwayOptions {
  admit: AdmitStage;
  catchUp: CatchUp;
  /** Hands the queued photo to the model, ahead of the watched folder's. */
  diagnose(a: Admitted): Promise<void>;
}

/**
 * A photo chosen by hand while the clinic database is unreachable: copied into the library and kept in the
 * local queue like a watched one, diagnosed from its copy at once, and its answer kept beside it; the
 * caller hears the answer and that it is saved here, to be written once the server is back (where the
 * usual rules find it again: the same bytes, name, patient and ear brought by hand are one record).
 */
export async function uploadWhileAway(
  o: UploadAwayOptions,
  bytes: Buffer,
  meta: UploadMeta,
): Promise<UploadSavedLocally> {
  const at = new Date().toISOString();
  const queue = o.catchUp.queue;
  const a = queue ? await o.admit.upload(bytes, meta, queue) : null;
  if (a?.kind !== 'queued' || !a.photo.image.storedPath)
    throw new EngineError(ErrorCodes.internal, `${meta.fileName} was not kept in the local queue.`);
  const answered = o.catchUp.answerOf(a.entryId);
  await o.diagnose(a);
  const kept = await answered;
  return savedLocally(a.photo.image.fileName, at, o.catchUp.status().waiting, kept);
}

/** What the caller of a hand upload hears when its answer waits in the local queue. */
export function savedLocally(
  fileName: string,
  at: string,
  waiting: number,
  kept: Classified,
): UploadSavedLocally {
  const base = { savedLocally: true as const, at, waiting, fileName };
  if ('failure' in kept) return { ...base, answer: null, failure: kept.failure };
  const d = kept.diagnosis;
  return {
    ...base,
    answer: {
      gate: d.gate,
      label: d.label,
      confidence: d.label !== null ? (d.probabilities[d.label] ?? null) : null,
      decision: d.gate === 'eardrum' ? (d.decision ?? null) : null,
    },
    failure: null,
  };
}

/**
 * The server went away while a photo's answer was being committed: the answer is kept in the local queue,
 * and a hand upload waiting for it hears this (carrying the answer) rather than a bare "unreachable".
 */
export class AnswerKeptLocally extends EngineError {
  constructor(
    cause: EngineError,
    readonly kept: Classified,
  ) {
    super(cause.code, cause.message, { cause });
  }
}
