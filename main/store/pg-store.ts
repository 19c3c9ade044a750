import type pg from 'pg';
import type {
  Ear,
  ErrorInfo,
  LabelInfo,
  RecordDetail,
  RecordFilter,
  RecordSort,
  RecordSummary,
} from '../../common/contract.ts';
import { ErrorCodes } from '../../common/contract.ts';
import type { Diagnosis } from '../../model/types.ts';
import { EngineError } from '../util/errors.ts';
import { PgQueries } from './pg-queries.ts';
import { PgRecordEdits } from './pg-record-edits.ts';
import { holdUntilPrepared } from './pg-gate.ts';
import { PgModelCards } from './pg-models.ts';
import { checkOut, inTransaction, migratePg, redactUrl, type Queryable } from './pg-pool.ts';
import { PgSettings } from './pg-settings.ts';
import { PgSharedHistory, type SharedOptions } from './pg-shared.ts';
import type { ImageRow, NewImage, NewSource, ReviewedPhoto } from './record-rows.ts';
import { searchText, toSummary } from './record-rows.ts';
import type { EditTime, ModelCardRecord, ReviewInput, Store, StoreHealth } from './store.ts';

const now = () => new Date().toISOString();

/**
 * The history shared by several exam rooms, in PostgreSQL through node-postgres: the same tables, rules and
 * row shapes as the SQLite store (store/records.ts), each multi-row write one transaction. Where two
 * workstations may race (the same photo stored twice), the database's unique index decides.
 */
export class PgStore implements Store {
  readonly backend = 'postgres' as const;
  readonly shared: PgSharedHistory;
  private labels: LabelInfo[] = [];
  private labelById = new Map<string, LabelInfo>();
  private readonly queries: PgQueries;
  private readonly edits: PgRecordEdits;
  private readonly settings: PgSettings;
  private readonly models: PgModelCards;

  private constructor(
    readonly pool: pg.Pool,
    private readonly url: string,
    private schemaVersion: number,
    shared: SharedOptions,
  ) {
    this.shared = new PgSharedHistory(pool, shared.workstation, shared.listenConfig, shared.heard);
    this.queries = new PgQueries(pool, () => this.labels);
    this.edits = new PgRecordEdits(pool, () => this.labelById);
    this.settings = new PgSettings(pool, shared.workstation);
    this.models = new PgModelCards(pool);
  }

  /**
   * Connects and migrates (under an advisory lock). The pool is the caller's to close through close().
   * `workstation` names this room in claims, notifications and settings; the listener uses `listenConfig`.
   * `away`: unreachable at start, used before at that schema: the first connection, once the server
   * answers, migrates and writes the model cards registered meanwhile (store/pg-gate.ts).
   */
  static async open(
    pool: pg.Pool,
    url: string,
    shared: SharedOptions,
    away?: { schemaVersion: number },
  ): Promise<PgStore> {
    if (!away) {
      const store = new PgStore(pool, url, await migratePg(pool), shared);
      await store.settings.adoptSharedWorkstationSettings();
      return store;
    }
    const store = new PgStore(pool, url, away.schemaVersion, shared);
    holdUntilPrepared(pool, async (raw) => {
      store.schemaVersion = await migratePg(raw);
      const { client, release } = await checkOut(raw);
      try {
        await store.settings.adoptSharedWorkstationSettings(client);
        await store.models.writeWaiting(client);
      } finally {
        release();
      }
    });
    return store;
  }

  setLabels(labels: LabelInfo[]): void {
    this.labels = labels;
    this.labelById = new Map(labels.map((l) => [l.id, l]));
  }
  getLabels(): LabelInfo[] {
    return this.labels;
  }
  registerModel(card: ModelCardRecord): Promise<void> {
    return this.models.register(card);
  }
  latestModelLabels(): Promise<LabelInfo[]> {
    return this.models.latestLabels();
  }

  async findBySha(sha256: string, q: Queryable = this.pool) {
    const r = await q.query<{ id: number; status: string }>(
      'SELECT id, status FROM images WHERE sha256 = $1 AND primary_id IS NULL AND stored_path IS NOT NULL',
      [sha256],
    );
    return r.rows[0];
  }
  async knownSource(filePath: string, size: number, mtimeMs: number) {
    const r = await this.pool.query<{ size: number; mtime_ms: number; image_id: number | null }>(
      'SELECT size, mtime_ms, image_id FROM source_files WHERE path = $1',
      [filePath],
    );
    const row = r.rows[0];
    if (!row || row.size !== size || row.mtime_ms !== Math.trunc(mtimeMs) || row.image_id === null)
      return null;
    return row.image_id;
  }
  rememberSource(filePath: string, size: number, mtimeMs: number, imageId: number, q?: Queryable) {
    return this.edits.rememberSource(filePath, size, mtimeMs, imageId, q);
  }

  async insertImage(img: NewImage): Promise<{ id: number; created: boolean }> {
    return inTransaction(this.pool, async (c) => {
      await this.edits.ensurePatient(c, img.patientId);
      // Another workstation may store the same photo at the same moment: the unique index settles it.
      const r = await c.query<{ id: number }>(
        `INSERT INTO images (sha256, file_name, original_path, source, stored_path, thumb_path, size_bytes, width,
           height, format, captured_at, captured_ms, capture_source, ingested_at, status, failure_code,
           failure_message, patient_id, ear, patient_source, search_text)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)
         ON CONFLICT (sha256) WHERE primary_id IS NULL AND stored_path IS NOT NULL DO NOTHING RETURNING id`,
        [
          img.sha256,
          img.fileName,
          img.originalPath,
          img.source,
          img.storedPath,
          img.thumbPath,
          img.sizeBytes,
          img.width,
          img.height,
          img.format,
          img.capturedAt,
          Date.parse(img.capturedAt),
          img.captureSource,
          now(),
          img.failure ? 'failed' : 'pending',
          img.failure?.code ?? null,
          img.failure?.message ?? null,
          img.patientId,
          img.ear,
          img.patientSource,
          searchText({ fileName: img.fileName, patientId: img.patientId }),
        ],
      );
      const id = r.rows[0]?.id;
      if (id === undefined) {
        const existing = await this.findBySha(img.sha256, c);
        if (!existing)
          throw new EngineError(ErrorCodes.ioError, `Storing ${img.fileName} lost a race; try again.`);
        return { id: existing.id, created: false };
      }
      if (img.sourceFile)
        await this.rememberSource(img.sourceFile.path, img.sourceFile.size, img.sourceFile.mtimeMs, id, c);
      return { id, created: true };
    });
  }

  async addSource(primaryId: number, src: NewSource): Promise<number> {
    return inTransaction(this.pool, async (c) => {
      // The photo's row locked first: a diagnosis committed by another room meanwhile either comes before
      // (and is copied here) or after (and reaches this record too), never in between.
      await this.edits.requireRow(c, primaryId, true);
      await this.edits.ensurePatient(c, src.patientId);
      const r = await c.query<{ id: number }>(
        `INSERT INTO images (sha256, primary_id, file_name, original_path, source, stored_path, thumb_path,
           overlay_path, size_bytes, width, height, format, captured_at, captured_ms, capture_source, ingested_at,
           status, failure_code, failure_message, patient_id, ear, patient_source, diagnosis_id, gate,
           gate_reason, model_label, confidence, decision, search_text)
         SELECT sha256, id, $2, $3, $4, stored_path, thumb_path, overlay_path, size_bytes, width, height, format,
           $5, $6, $7, $8, status, failure_code, failure_message, $9, $10, $11, diagnosis_id, gate, gate_reason,
           model_label, confidence, decision, ''
         FROM images WHERE id = $1 RETURNING id`,
        [
          primaryId,
          src.fileName,
          src.originalPath,
          src.source,
          src.capturedAt,
          Date.parse(src.capturedAt),
          src.captureSource,
          now(),
          src.patientId,
          src.ear,
          src.patientSource,
        ],
      );
      const id = r.rows[0]?.id;
      if (id === undefined) throw new EngineError(ErrorCodes.notFound, `There is no record ${primaryId}.`);
      if (src.sourceFile)
        await this.rememberSource(src.sourceFile.path, src.sourceFile.size, src.sourceFile.mtimeMs, id, c);
      await this.edits.refreshDerived(c, await this.edits.requireRow(c, id));
      return id;
    });
  }

  async photoRecords(id: number, q: Queryable = this.pool): Promise<ImageRow[]> {
    const row = await this.row(id, q);
    if (!row) return [];
    const primary = row.primary_id ?? row.id;
    return (
      await q.query<ImageRow>('SELECT * FROM images WHERE id = $1 OR primary_id = $1 ORDER BY id', [primary])
    ).rows;
  }
  async sourcesWithSameFile(sha256: string, size: number, mtimeMs: number) {
    const r = await this.pool.query<{ path: string; image_id: number }>(
      `SELECT sf.path, sf.image_id FROM source_files sf JOIN images i ON i.id = sf.image_id
       WHERE i.sha256 = $1 AND i.source = 'watch' AND sf.size = $2 AND sf.mtime_ms = $3 ORDER BY sf.image_id`,
      [sha256, size, Math.trunc(mtimeMs)],
    );
    return r.rows.map((x) => ({ path: x.path, recordId: x.image_id }));
  }

  async commitDiagnosis(imageId: number, d: Diagnosis, overlayPath: string | null): Promise<void> {
    // Only an eardrum answer carries a decision, whatever a classifier sends with another gate.
    const decision = d.gate === 'eardrum' ? (d.decision ?? null) : null;
    await inTransaction(this.pool, async (c) => {
      await this.edits.requireRow(c, imageId, true);
      await this.shared.settle(c, imageId);
      const ins = await c.query<{ id: number }>(
        `INSERT INTO diagnoses (image_id, model_id, model_version, backend, gate, gate_reason, eardrum_probability,
           label, probabilities, decision, not_sure_reasons, unfamiliarity, heatmap, decode_ms, inference_ms,
           total_ms, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING id`,
        [
          imageId,
          d.model.id,
          d.model.version,
          d.model.backend,
          d.gate,
          d.gateReason ?? null,
          d.eardrumProbability,
          d.label,
          JSON.stringify(d.probabilities),
          decision,
          JSON.stringify(decision === 'not_sure' ? d.notSureReasons : []),
          d.unfamiliarity ?? null,
          d.heatmap
            ? JSON.stringify({ rows: d.heatmap.rows, cols: d.heatmap.cols, values: d.heatmap.values })
            : null,
          d.timings.decodeMs,
          d.timings.inferenceMs,
          d.timings.totalMs,
          now(),
        ],
      );
      const confidence = d.label !== null ? (d.probabilities[d.label] ?? null) : null;
      await c.query(
        `UPDATE images SET status = 'done', failure_code = NULL, failure_message = NULL, diagnosis_id = $2,
           gate = $3, gate_reason = $4, model_label = $5, confidence = $6, overlay_path = $7,
           width = coalesce(width, $8), height = coalesce(height, $9), format = coalesce(format, $10),
           decision = $11
         WHERE id = $1 OR primary_id = $1`,
        [
          imageId,
          ins.rows[0]!.id,
          d.gate,
          d.gateReason ?? null,
          d.label,
          confidence,
          overlayPath,
          d.image.width,
          d.image.height,
          d.image.format,
          decision,
        ],
      );
      const group = await c.query<ImageRow>('SELECT * FROM images WHERE id = $1 OR primary_id = $1', [
        imageId,
      ]);
      for (const r of group.rows) await this.edits.refreshDerived(c, r);
    });
  }

  /** Like commitDiagnosis, with the photo's row locked first so a source added meanwhile is not missed. */
  async markFailed(imageId: number, error: ErrorInfo): Promise<void> {
    await this.lockedUpdate(
      imageId,
      "UPDATE images SET status = 'failed', failure_code = $2, failure_message = $3 WHERE id = $1 OR primary_id = $1",
      [imageId, error.code, error.message],
      true,
    );
  }
  async markPending(imageId: number): Promise<void> {
    await this.lockedUpdate(
      imageId,
      "UPDATE images SET status = 'pending', failure_code = NULL, failure_message = NULL WHERE id = $1 OR primary_id = $1",
      [imageId],
    );
  }
  private async lockedUpdate(imageId: number, text: string, values: unknown[], settle = false) {
    await inTransaction(this.pool, async (c) => {
      await this.edits.requireRow(c, imageId, true);
      if (settle) await this.shared.settle(c, imageId);
      await c.query(text, values);
    });
  }
  async setThumbnail(imageId: number, thumbPath: string): Promise<void> {
    await this.pool.query('UPDATE images SET thumb_path = $1 WHERE id = $2', [thumbPath, imageId]);
  }
  async pendingImages(): Promise<ImageRow[]> {
    return (
      await this.pool.query<ImageRow>(
        "SELECT * FROM images WHERE status = 'pending' AND primary_id IS NULL ORDER BY id",
      )
    ).rows;
  }

  async row(id: number, q: Queryable = this.pool): Promise<ImageRow | undefined> {
    return (await q.query<ImageRow>('SELECT * FROM images WHERE id = $1', [id])).rows[0];
  }

  moveSource(...args: Parameters<PgRecordEdits['moveSource']>) {
    return this.edits.moveSource(...args);
  }
  addReview(input: ReviewInput) {
    return this.edits.addReview(input);
  }
  updatePatient(id: number, patientId: string | null, ear: Ear, time?: EditTime) {
    return this.edits.updatePatient(id, patientId, ear, time);
  }

  /** In a shared history these include other rooms' photos, whose copies are in their libraries (main/README.md, Stores). */
  async reviewedPhotos(): Promise<ReviewedPhoto[]> {
    return (
      await this.pool.query<ReviewedPhoto>(
        `SELECT id, stored_path AS "storedPath", file_name AS "fileName", reviewed_label AS label, gate,
           model_label AS "modelLabel" FROM images
         WHERE review_count > 0 AND reviewed_label IS NOT NULL AND stored_path IS NOT NULL ORDER BY id`,
      )
    ).rows;
  }

  async summary(id: number): Promise<RecordSummary | null> {
    const row = await this.row(id);
    return row ? toSummary(row) : null;
  }

  async detail(id: number): Promise<RecordDetail | null> {
    const row = await this.row(id);
    return row ? this.queries.detail(row, await this.photoRecords(id)) : null;
  }

  list(args: { filter: RecordFilter; sort: RecordSort; offset: number; limit: number }) {
    return this.queries.list(args);
  }
  visits(args: { filter: RecordFilter; offset: number; limit: number }) {
    return this.queries.visits(args);
  }
  countsPerDay(filter: RecordFilter) {
    return this.queries.countsPerDay(filter);
  }
  exportRows(filter: RecordFilter, sort: RecordSort) {
    return this.queries.exportRows(filter, sort);
  }
  counts() {
    return this.queries.counts();
  }
  getSettings() {
    return this.settings.get();
  }
  updateSettings(...args: Parameters<PgSettings['update']>) {
    return this.settings.update(...args);
  }
  settingsChanges() {
    return this.settings.changes();
  }

  /** The server's own backups (pg_dump, base backups) are the clinic's: nothing here. */
  async backupIfDue(): Promise<string | null> {
    return null;
  }
  async health(): Promise<StoreHealth> {
    return { backend: 'postgres', location: redactUrl(this.url), schemaVersion: this.schemaVersion };
  }
  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }
  async close(): Promise<void> {
    await this.pool.end();
  }
}
