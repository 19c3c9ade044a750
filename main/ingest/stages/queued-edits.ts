import type { Outbox, QueuedEdit } from '../../store/outbox.ts';
import type { Store } from '../../store/store.ts';
import { toEngineError } from '../../util/errors.ts';
import type { Logger } from '../../util/logger.ts';

export interface QueuedEditsOptions {
  outbox: Outbox;
  store: Store;
  logger: Logger;
  /** A queued review or edit written: the record's views refresh. */
  edited(recordId: number): void;
}

/** What writing the queued edits came to: how many left the queue, and why the last refused one was. */
export interface EditsWritten {
  written: number;
  refused: number;
  lastError: string | null;
}

/** The record a queued edit is about. */
export const recordOf = (e: QueuedEdit): number => (e.kind === 'review' ? e.review.recordId : e.recordId);

/**
 * Writes the reviews and patient edits kept while the server was away, in the order they were made, each
 * with its original time (and, for a review, its reviewer), each removed from the queue once committed. A
 * replay (after a crash between the commit and the removal) adds nothing: the store finds a review or an
 * edit of that record at that very time (store.ts ReviewInput.createdAt, EditTime). `go` says whether to
 * go on; `lost` takes an error meaning the server went away again (true: stop here, the rest waits).
 */
export async function writeQueuedEdits(
  o: QueuedEditsOptions,
  go: () => boolean,
  lost: (err: unknown) => boolean,
): Promise<EditsWritten> {
  const out: EditsWritten = { written: 0, refused: 0, lastError: null };
  let after = 0;
  for (;;) {
    const batch = o.outbox.nextEdits(after);
    if (batch.length === 0) return out;
    for (const { id, edit } of batch) {
      if (!go()) return out;
      after = id;
      try {
        if (edit.kind === 'review')
          await o.store.addReview({ ...edit.review, createdAt: edit.at, queued: true });
        else
          await o.store.updatePatient(edit.recordId, edit.patientId, edit.ear, { at: edit.at, queued: true });
        o.outbox.removeEdit(id);
        out.written++;
        o.edited(recordOf(edit));
      } catch (err) {
        if (lost(err)) return out;
        // Refused (the record is gone, a confirm of a photo without an answer): set aside with its reason.
        const message = toEngineError(
          err,
          `Writing a ${edit.kind === 'review' ? 'review' : 'patient edit'} of record ${recordOf(edit)} kept locally`,
        ).message;
        o.logger.error(message);
        o.outbox.setEditError(id, message);
        out.refused++;
        out.lastError = message;
      }
    }
  }
}
