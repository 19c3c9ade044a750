import path from 'node:path';
import type { UploadSavedLocally } from '../../../common/contract.ts';
import { toSummary } from '../../store/record-rows.ts';
import type { Store } from '../../store/store.ts';
import type { Admitted, AdmitStage, UploadMeta } from './admit.ts';
import type { CatchUp } from './catch-up.ts';
import type { Notifier } from './notify.ts';
import { AnswerKeptLocally, savedLocally, uploadWhileAway } from './upload-away.ts';

export interface HandUploadOptions {
  admit: AdmitStage;
  store: Store;
  notifier: Notifier;
  catchUp: CatchUp | null;
  /** Hands the admitted photo to the model, ahead of the watched folder's queue. */
  diagnose(a: Admitted): Promise<void>;
}

/**
 * A photo chosen by hand: admitted like a watched one and diagnosed ahead of the folder's queue; resolves
 * once it is done or failed. While the clinic database is away (or goes away during admission) it is kept
 * in the local queue instead (upload-away.ts).
 */
export async function handUpload(
  o: HandUploadOptions,
  bytes: Buffer,
  meta: UploadMeta,
): Promise<{ id: number; duplicate: boolean } | UploadSavedLocally> {
  const { catchUp } = o;
  const stored = catchUp?.queue
    ? null
    : await o.admit.upload(bytes, meta).catch((err: unknown) => {
        if (catchUp?.lost(err)) return null;
        throw err;
      });
  if (!stored)
    return uploadWhileAway({ admit: o.admit, catchUp: catchUp!, diagnose: o.diagnose }, bytes, meta);
  // Waiting starts before the record is looked at: the model may finish it meanwhile.
  const done = o.notifier.waitFor(stored.recordId);
  done.catch(() => undefined); // settled below when there is nothing to wait for
  await o.diagnose(stored);
  // The server may go away right here too: the model's answer then goes to the local queue, and this hears so.
  const row = await o.store.row(stored.recordId).catch((err: unknown) => {
    if (catchUp?.lost(err)) return 'away' as const;
    throw err;
  });
  if (row !== 'away' && row?.status !== 'pending')
    o.notifier.settle(stored.recordId, row ? toSummary(row) : null);
  const kept = await done.then(
    () => null,
    (err: unknown) => {
      if (err instanceof AnswerKeptLocally && catchUp) return err.kept;
      throw err;
    },
  );
  const fileName = path.basename(meta.fileName.replace(/\\/g, '/')) || 'upload';
  if (kept) return savedLocally(fileName, new Date().toISOString(), catchUp!.status().waiting, kept);
  return { id: stored.recordId, duplicate: stored.kind !== 'new' };
}
