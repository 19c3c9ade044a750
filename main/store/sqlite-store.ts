import type Database from 'better-sqlite3';
import type {
  Ear,
  ErrorInfo,
  LabelInfo,
  RecordFilter,
  RecordSort,
  SettingsPatch,
} from '../../common/contract.ts';
import type { Diagnosis } from '../../model/types.ts';
import type { Backups } from './backups.ts';
import type { ExportRow, NewImage, NewSource } from './record-rows.ts';
import { RecordStore } from './records.ts';
import { SettingsStore } from './settings-store.ts';
import type { ModelCardRecord, ReviewInput, Store, StoreHealth } from './store.ts';

const EXPORT_BATCH = 1000;

/**
 * The embedded store of one workstation: better-sqlite3 (synchronous, in-process) behind the Store seam.
 * `records` and `settings` stay reachable for what only SQLite has (tests of its triggers, read-only export).
 */
export class SqliteStore implements Store {
  readonly backend = 'sqlite' as const;
  /** One workstation: nobody to share claims or changes with. */
  readonly shared = null;
  readonly records: RecordStore;
  readonly settings: SettingsStore;

  constructor(
    readonly db: Database.Database,
    private readonly backups: Backups | null = null,
    records?: RecordStore,
  ) {
    this.records = records ?? new RecordStore(db);
    this.settings = new SettingsStore(db);
  }

  setLabels(labels: LabelInfo[]): void {
    this.records.setLabels(labels);
  }
  getLabels(): LabelInfo[] {
    return this.records.getLabels();
  }
  async registerModel(card: ModelCardRecord): Promise<void> {
    this.records.registerModel(card);
  }
  async latestModelLabels(): Promise<LabelInfo[]> {
    return this.records.latestModelLabels();
  }

  async findBySha(sha256: string) {
    return this.records.findBySha(sha256);
  }
  async knownSource(filePath: string, size: number, mtimeMs: number) {
    return this.records.knownSource(filePath, size, mtimeMs);
  }
  async rememberSource(filePath: string, size: number, mtimeMs: number, imageId: number) {
    this.records.rememberSource(filePath, size, mtimeMs, imageId);
  }
  async insertImage(img: NewImage) {
    return this.records.insertImage(img);
  }
  async addSource(primaryId: number, src: NewSource) {
    return this.records.addSource(primaryId, src);
  }
  async photoRecords(id: number) {
    return this.records.photoRecords(id);
  }
  async sourcesWithSameFile(sha256: string, size: number, mtimeMs: number) {
    return this.records.sourcesWithSameFile(sha256, size, mtimeMs);
  }
  async moveSource(
    id: number,
    from: string,
    to: { path: string; fileName: string; size: number; mtimeMs: number },
    parsed: { patientId: string | null; ear: Ear; matched: boolean },
  ) {
    this.records.moveSource(id, from, to, parsed);
  }

  async commitDiagnosis(imageId: number, d: Diagnosis, overlayPath: string | null) {
    this.records.commitDiagnosis(imageId, d, overlayPath);
  }
  async markFailed(imageId: number, error: ErrorInfo) {
    this.records.markFailed(imageId, error);
  }
  async markPending(imageId: number) {
    this.records.markPending(imageId);
  }
  async setThumbnail(imageId: number, thumbPath: string) {
    this.records.setThumbnail(imageId, thumbPath);
  }
  async pendingImages() {
    return this.records.pendingImages();
  }

  async row(id: number) {
    return this.records.row(id);
  }
  async summary(id: number) {
    return this.records.summary(id);
  }
  async detail(id: number) {
    return this.records.detail(id);
  }
  async addReview(input: ReviewInput) {
    this.records.addReview(input);
  }
  async updatePatient(id: number, patientId: string | null, ear: Ear) {
    this.records.updatePatient(id, patientId, ear);
  }

  async reviewedPhotos() {
    return this.records.reviewedPhotos();
  }

  async list(args: { filter: RecordFilter; sort: RecordSort; offset: number; limit: number }) {
    return this.records.list(args);
  }
  async visits(args: { filter: RecordFilter; offset: number; limit: number }) {
    return this.records.visits(args);
  }
  async countsPerDay(filter: RecordFilter) {
    return this.records.countsPerDay(filter);
  }
  /** From one read-only snapshot (WAL), in batches: one await per thousand rows, not per row. */
  async *exportRows(filter: RecordFilter, sort: RecordSort): AsyncGenerator<ExportRow[]> {
    let batch: ExportRow[] = [];
    for (const r of this.records.exportRows(filter, sort)) {
      batch.push(r);
      if (batch.length === EXPORT_BATCH) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length) yield batch;
  }
  async counts() {
    return this.records.counts();
  }

  async getSettings() {
    return this.settings.get();
  }
  async updateSettings(patch: SettingsPatch, changedBy?: string) {
    return this.settings.update(patch, changedBy);
  }
  async settingsChanges() {
    return this.settings.changes();
  }

  async backupIfDue(): Promise<string | null> {
    return this.backups ? this.backups.dailyIfDue() : null;
  }
  async health(): Promise<StoreHealth> {
    return {
      backend: 'sqlite',
      location: this.db.name,
      schemaVersion: this.db.pragma('user_version', { simple: true }) as number,
    };
  }
  /** In-process: nothing to reach. */
  async ping(): Promise<void> {}
  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
