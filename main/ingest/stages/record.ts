import type { ErrorInfo, RecordSummary } from '../../../common/contract.ts';
import { ErrorCodes } from '../../../common/contract.ts';
import type { Diagnosis } from '../../../model/types.ts';
import { ImageLibrary } from '../../library/library.ts';
import { toSummary } from '../../store/record-rows.ts';
import type { ImageRow, Store } from '../../store/store.ts';
import { EngineError } from '../../util/errors.ts';

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
    let overlayPath: string | null = null;
    if (diagnosis.heatmap) {
      overlayPath = ImageLibrary.overlayPath(row.sha256, diagnosis.model.id, diagnosis.model.version);
      await this.library.put(overlayPath, diagnosis.heatmap.overlayPng);
    }
    await this.store.commitDiagnosis(row.id, diagnosis, overlayPath);
    return this.outcome(row.id);
  }

  async fail(
    id: number,
    failure: ErrorInfo,
  ): Promise<{ record: RecordSummary | null; others: RecordSummary[] }> {
    await this.store.markFailed(id, failure);
    return this.outcome(id);
  }

  /** A failed photo given another try (asked for by any of its records): its copy's record back to pending. */
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

  private async outcome(id: number): Promise<{ record: RecordSummary; others: RecordSummary[] }> {
    const group = await this.store.photoRecords(id);
    const others = group.filter((r) => r.id !== id).map(toSummary);
    const self = group.find((r) => r.id === id);
    return { record: self ? toSummary(self) : (await this.store.summary(id))!, others };
  }
}
