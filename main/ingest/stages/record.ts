import type { ErrorInfo, RecordSummary } from '../../../common/contract.ts';
import { ErrorCodes } from '../../../common/contract.ts';
import { EngineError } from '../../util/errors.ts';
import type { Diagnosis } from '../../../model/types.ts';
import { ImageLibrary } from '../../library/library.ts';
import { toSummary } from '../../store/record-rows.ts';
import type { ImageRow, Store } from '../../store/store.ts';
import type { Committed } from './catch-up.ts';
import type { Classified } from './classify.ts';

/**
 * The record stage: the heatmap overlay is written to the library, then the diagnosis and the board's
 * columns are committed in one transaction for every record of the photo. Returns the photo's record and
 * its other records (sources that came meanwhile), for the notify stage.
 */
export class RecordStage {
  constructor(
    private readonly store: Store,
    private readonly library: ImageLibrary,
  ) {}

  async commit(
    row: ImageRow,
    diagnosis: Diagnosis,
  ): Promise<{ record: RecordSummary; others: RecordSummary[] }> {
    return this.commitWritten(row.id, diagnosis, await this.writeOverlay(row.sha256, diagnosis));
  }

  /** The overlay into the library (before anything refers to it), or null without a heatmap. */
  async writeOverlay(sha256: string, diagnosis: Diagnosis): Promise<string | null> {
    if (!diagnosis.heatmap) return null;
    const overlayPath = ImageLibrary.overlayPath(sha256, diagnosis.model.id, diagnosis.model.version);
    await this.library.put(overlayPath, diagnosis.heatmap.overlayPng);
    return overlayPath;
  }

  /** Commits an answer whose overlay is already written (an answer kept in the local queue meanwhile). */
  async commitWritten(
    id: number,
    diagnosis: Diagnosis,
    overlayPath: string | null,
  ): Promise<{ record: RecordSummary; others: RecordSummary[] }> {
    await this.store.commitDiagnosis(id, diagnosis, overlayPath);
    return this.outcome(id);
  }

  /** Commits what the model came to: its answer, or the reason there is none. */
  async commitResult(row: ImageRow, result: Classified): Promise<Committed> {
    if ('failure' in result) return { ...(await this.fail(row.id, result.failure)), failure: result.failure };
    return { ...(await this.commit(row, result.diagnosis)), diagnosis: result.diagnosis };
  }

  /** A failed photo made pending again, given any of its records; refused unless its copy can be diagnosed. */
  async reopen(id: number): Promise<ImageRow> {
    const asked = await this.store.row(id);
    if (!asked) throw new EngineError(ErrorCodes.notFound, `There is no record ${id}.`);
    const row = asked.primary_id === null ? asked : await this.store.row(asked.primary_id);
    if (!row) throw new EngineError(ErrorCodes.notFound, `There is no record ${asked.primary_id}.`);
    if (row.status !== 'failed')
      throw new EngineError(ErrorCodes.invalidArgs, `Record ${id} has not failed.`);
    if (!row.stored_path) {
      throw new EngineError(
        ErrorCodes.unsupported,
        `Record ${id} has no stored copy to diagnose (${row.failure_message ?? 'failed'}).`,
      );
    }
    await this.store.markPending(row.id);
    return row;
  }

  async fail(
    id: number,
    failure: ErrorInfo,
  ): Promise<{ record: RecordSummary | null; others: RecordSummary[] }> {
    await this.store.markFailed(id, failure);
    return this.outcome(id);
  }

  /** A photo's record as it stands, and the other records sharing that photo. */
  async outcome(id: number): Promise<{ record: RecordSummary; others: RecordSummary[] }> {
    const group = await this.store.photoRecords(id);
    const others = group.filter((r) => r.id !== id).map(toSummary);
    const self = group.find((r) => r.id === id);
    return { record: self ? toSummary(self) : (await this.store.summary(id))!, others };
  }
}
