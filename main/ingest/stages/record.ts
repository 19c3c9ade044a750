import type { ErrorInfo, RecordSummary } from '../../../common/contract.ts';
import type { Diagnosis } from '../../../model/types.ts';
import { ImageLibrary } from '../../library/library.ts';
import type { ImageRow, RecordStore } from '../../store/records.ts';

/**
 * The record stage: the heatmap overlay is written to the library, then the diagnosis and the board's
 * columns are committed in one transaction for every record of the photo. Returns the photo's record and
 * its other records (sources that came meanwhile), for the notify stage.
 */
export class RecordStage {
  constructor(
    private readonly store: RecordStore,
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
    this.store.commitDiagnosis(row.id, diagnosis, overlayPath);
    return this.outcome(row.id);
  }

  async fail(
    id: number,
    failure: ErrorInfo,
  ): Promise<{ record: RecordSummary | null; others: RecordSummary[] }> {
    this.store.markFailed(id, failure);
    return this.outcome(id);
  }

  private outcome(id: number): { record: RecordSummary; others: RecordSummary[] } {
    const others = this.store
      .photoRecords(id)
      .filter((r) => r.id !== id)
      .map((r) => this.store.summary(r.id)!)
      .filter(Boolean);
    return { record: this.store.summary(id)!, others };
  }
}
