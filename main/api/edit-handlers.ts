import type { EditSavedLocally, Handlers, RecordDetail } from '../../common/contract.ts';
import { ErrorCodes } from '../../common/contract.ts';
import type { QueuedEdit } from '../store/outbox.ts';
import type { Services } from '../services.ts';
import { EngineError } from '../util/errors.ts';

type EditHandlers = Pick<Handlers, 'reviews.add' | 'records.updatePatient'>;
type Needs = Pick<Services, 'store' | 'engine'>;

/**
 * A review or a patient edit: written at once, or, while the clinic database is unreachable (or earlier
 * ones made while it was still wait in the local queue, which keeps them in order), kept there with the
 * time it was made and written once the server is back (stages/queued-edits.ts). The time is fixed before
 * the first try, so one whose commit reached the server but whose answer was lost with the connection is
 * found there when the queue replays it, not added twice.
 */
export function createEditHandlers(s: Needs): EditHandlers {
  const write = async (
    edit: QueuedEdit,
    recordId: number,
    apply: () => Promise<void>,
  ): Promise<RecordDetail | EditSavedLocally> => {
    const queue = s.engine.localQueue;
    if (queue?.keepsEdits) return queue.saveEdit(edit);
    try {
      if (!(await s.store.row(recordId)))
        throw new EngineError(ErrorCodes.notFound, `There is no record ${recordId}.`);
      await apply();
      await s.engine.recordUpdated(recordId);
      const d = await s.store.detail(recordId);
      if (!d) throw new EngineError(ErrorCodes.notFound, `There is no record ${recordId}.`);
      return d;
    } catch (err) {
      if (queue?.lost(err)) return queue.saveEdit(edit);
      throw err;
    }
  };
  return {
    'records.updatePatient': async (a) => {
      const at = new Date().toISOString();
      const edit: QueuedEdit = { kind: 'patient', at, recordId: a.id, patientId: a.patientId, ear: a.ear };
      const time = s.engine.localQueue ? { at, queued: false } : undefined;
      return write(edit, a.id, () => s.store.updatePatient(a.id, a.patientId, a.ear, time));
    },
    'reviews.add': async (a) => {
      const review = {
        recordId: a.recordId,
        action: a.action,
        ...(a.label !== undefined ? { label: a.label } : {}),
        note: a.note,
        reviewer: a.reviewer,
      };
      const at = new Date().toISOString();
      const when = s.engine.localQueue ? { createdAt: at } : {};
      return write({ kind: 'review', at, review }, a.recordId, () =>
        s.store.addReview({ ...review, ...when }),
      );
    },
  };
}
