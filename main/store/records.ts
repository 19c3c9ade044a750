import Database from 'better-sqlite3';
import type {
  CountsPerDay,
  Ear,
  ErrorInfo,
  LabelInfo,
  RecordDetail,
  RecordFilter,
  RecordPage,
  RecordSort,
  RecordSummary,
  ReviewAction,
  VisitPage,
} from '../../common/contract.ts';
import { ErrorCodes } from '../../common/contract.ts';
import type { Diagnosis } from '../../model/types.ts';
import { EngineError } from '../util/errors.ts';
import { RecordQueries } from './record-queries.ts';
import { prepareRecordStatements, type RecordStatements } from './record-statements.ts';
import type { ExportRow, ImageRow, NewImage, NewSource, ReviewedPhoto } from './record-rows.ts';
import { searchText, toDiagnosisView, toReview, toSamePhoto, toSummary } from './record-rows.ts';
import { toPatientEdit } from './record-rows.ts';

export type { ExportColumn, ExportRow, ImageRow, NewImage, NewSource, ReviewedPhoto } from './record-rows.ts';
export { EXPORT_COLUMNS, EXPORT_INDEX, toSummary } from './record-rows.ts';

/** Labels a reviewer may choose besides the model card's: the two gate outcomes that are not eardrums. */
export const GATE_LABELS = ['not_eardrum', 'ungradable'] as const;

const now = () => new Date().toISOString();

/**
 * All reads and writes of records. Every multi-row write is one transaction; diagnoses and reviews are
 * append-only (enforced by triggers), and the board's columns on `images` are refreshed in the same
 * transaction as the rows they summarise.
 */
export class RecordStore {
  private labels: LabelInfo[] = [];
  private labelById = new Map<string, LabelInfo>();
  private readonly stmts: RecordStatements;
  private readonly queries: RecordQueries;

  constructor(readonly db: Database.Database) {
    this.queries = new RecordQueries(db, () => this.labels);
    this.stmts = prepareRecordStatements(db);
  }

  /** The model card's labels: used to validate review labels and to decide `abnormal`. */
  setLabels(labels: LabelInfo[]): void {
    this.labels = labels;
    this.labelById = new Map(labels.map((l) => [l.id, l]));
  }

  getLabels(): LabelInfo[] {
    return this.labels;
  }

  /** Remembers a model's card (first use wins; cards of a given id and version never change). */
  registerModel(card: {
    id: string;
    version: string;
    labels: LabelInfo[];
    details: Record<string, unknown>;
  }): void {
    this.stmts.registerModel.run(
      card.id,
      card.version,
      JSON.stringify(card.labels),
      JSON.stringify(card.details),
      now(),
    );
  }

  /** What "Learn from reviewed photos" learns from (see RecordQueries.reviewedPhotos). */
  reviewedPhotos(): ReviewedPhoto[] {
    return this.queries.reviewedPhotos();
  }

  latestModelLabels(): LabelInfo[] {
    return this.queries.latestModelLabels();
  }

  findBySha(sha256: string): { id: number; status: string } | undefined {
    return this.stmts.bySha.get(sha256);
  }

  /** The image id a watched file was ingested as, when its size and mtime are unchanged since. */
  knownSource(filePath: string, size: number, mtimeMs: number): number | null {
    const row = this.stmts.source.get(filePath);
    if (!row || row.size !== size || row.mtime_ms !== Math.trunc(mtimeMs) || row.image_id === null)
      return null;
    return row.image_id;
  }

  rememberSource(filePath: string, size: number, mtimeMs: number, imageId: number): void {
    this.stmts.upsertSource.run({
      path: filePath,
      size,
      mtimeMs: Math.trunc(mtimeMs),
      imageId,
      seenAt: now(),
    });
  }

  /**
   * Inserts a new record: a stored photo (pending), or a file that failed before anything was stored
   * (`failure` set, no stored copy: every such file keeps its own record and failure). For a photo whose
   * bytes are already stored, nothing is inserted: the id of the record holding them comes back with
   * `created: false`, and the caller adds the file as a further source (`addSource`).
   */
  insertImage(img: NewImage): { id: number; created: boolean } {
    return this.db.transaction(() => {
      const existing = img.storedPath !== null ? this.stmts.bySha.get(img.sha256) : undefined;
      if (existing) return { id: existing.id, created: false };
      if (img.patientId) this.stmts.ensurePatient.run(img.patientId, now());
      const info = this.stmts.insertImage.run({
        ...img,
        capturedMs: Date.parse(img.capturedAt),
        ingestedAt: now(),
        status: img.failure ? 'failed' : 'pending',
        failureCode: img.failure?.code ?? null,
        failureMessage: img.failure?.message ?? null,
        searchText: searchText({ fileName: img.fileName, patientId: img.patientId }),
      });
      const id = Number(info.lastInsertRowid);
      if (img.sourceFile)
        this.rememberSource(img.sourceFile.path, img.sourceFile.size, img.sourceFile.mtimeMs, id);
      return { id, created: true };
    })();
  }

  /**
   * A further source of a stored photo: its own record (file name, patient, ear, capture time, reviews)
   * sharing the photo's copy, status and diagnosis. Returns the new record's id.
   */
  addSource(primaryId: number, src: NewSource): number {
    return this.db.transaction(() => {
      if (src.patientId) this.stmts.ensurePatient.run(src.patientId, now());
      const info = this.stmts.addSource.run({
        primaryId,
        fileName: src.fileName,
        originalPath: src.originalPath,
        source: src.source,
        capturedAt: src.capturedAt,
        capturedMs: Date.parse(src.capturedAt),
        captureSource: src.captureSource,
        ingestedAt: now(),
        patientId: src.patientId,
        ear: src.ear,
        patientSource: src.patientSource,
      });
      if (info.changes !== 1) throw new EngineError(ErrorCodes.notFound, `There is no record ${primaryId}.`);
      const id = Number(info.lastInsertRowid);
      if (src.sourceFile)
        this.rememberSource(src.sourceFile.path, src.sourceFile.size, src.sourceFile.mtimeMs, id);
      this.refreshDerived(this.requireRow(id));
      return id;
    })();
  }

  /** Every record of one photo (the one holding the copy first), given any of them. */
  photoRecords(id: number): ImageRow[] {
    const row = this.stmts.byId.get(id);
    if (!row) return [];
    const primary = row.primary_id ?? row.id;
    return this.stmts.photoGroup.all(primary, primary);
  }

  /** Watched files with these bytes, size and mtime: a renamed file keeps its size and mtime, a copy rarely. */
  sourcesWithSameFile(sha256: string, size: number, mtimeMs: number): { path: string; recordId: number }[] {
    return this.stmts.sourcesBySizeMtime
      .all(sha256, size, Math.trunc(mtimeMs))
      .map((r) => ({ path: r.path, recordId: r.image_id }));
  }

  /**
   * A watched file was renamed or moved: its record follows it. Patient and ear are read again from the new
   * name unless a person set them; changes go into the audit trail of edits.
   */
  moveSource(
    id: number,
    from: string,
    to: { path: string; fileName: string; size: number; mtimeMs: number },
    parsed: { patientId: string | null; ear: Ear; matched: boolean },
  ): void {
    this.db.transaction(() => {
      const row = this.requireRow(id);
      const at = now();
      let { patient_id: pid, ear } = row;
      let patientSource = row.patient_source;
      if (row.patient_source === 'pattern' || row.patient_source === 'none') {
        pid = parsed.patientId;
        ear = parsed.ear;
        patientSource = parsed.matched ? 'pattern' : 'none';
        if (pid) this.stmts.ensurePatient.run(pid, at);
        if (row.patient_id !== pid) this.stmts.insertEdit.run(id, 'patient_id', row.patient_id, pid, at);
        if (row.ear !== ear) this.stmts.insertEdit.run(id, 'ear', row.ear, ear, at);
      }
      this.stmts.insertEdit.run(id, 'original_path', row.original_path, to.path, at);
      this.stmts.moveFile.run(to.path, to.fileName, pid, ear, patientSource, id);
      this.stmts.forgetSource.run(from, id);
      this.rememberSource(to.path, to.size, to.mtimeMs, id);
      this.refreshDerived({ ...row, file_name: to.fileName, patient_id: pid, ear });
    })();
  }

  /** Commits the model's answer and the overlay file name in one transaction; marks the photo's records done. */
  commitDiagnosis(imageId: number, d: Diagnosis, overlayPath: string | null): void {
    this.db.transaction(() => {
      this.requireRow(imageId);
      const decision = d.gate === 'eardrum' ? (d.decision ?? null) : null;
      const info = this.stmts.insertDiagnosis.run({
        imageId,
        modelId: d.model.id,
        modelVersion: d.model.version,
        backend: d.model.backend,
        gate: d.gate,
        gateReason: d.gateReason ?? null,
        eardrumProbability: d.eardrumProbability,
        label: d.label,
        probabilities: JSON.stringify(d.probabilities),
        // Only an eardrum answer carries a decision, whatever a classifier sends with another gate.
        decision,
        notSureReasons: JSON.stringify(decision === 'not_sure' ? d.notSureReasons : []),
        unfamiliarity: d.unfamiliarity ?? null,
        heatmap: d.heatmap
          ? JSON.stringify({ rows: d.heatmap.rows, cols: d.heatmap.cols, values: d.heatmap.values })
          : null,
        decodeMs: d.timings.decodeMs,
        inferenceMs: d.timings.inferenceMs,
        totalMs: d.timings.totalMs,
        createdAt: now(),
      });
      const confidence = d.label !== null ? (d.probabilities[d.label] ?? null) : null;
      this.stmts.markDone.run({
        id: imageId,
        diagnosisId: Number(info.lastInsertRowid),
        gate: d.gate,
        gateReason: d.gateReason ?? null,
        label: d.label,
        confidence,
        decision,
        overlayPath,
        width: d.image.width,
        height: d.image.height,
        format: d.image.format,
      });
      for (const r of this.stmts.photoGroup.all(imageId, imageId)) this.refreshDerived(r);
    })();
  }

  /** Marks a photo failed, with every record that shares it. */
  markFailed(imageId: number, error: ErrorInfo): void {
    this.stmts.markFailed.run(error.code, error.message, imageId, imageId);
  }

  /** Puts a failed photo back in the queue (its stored copy is diagnosed again), with its other records. */
  markPending(imageId: number): void {
    this.stmts.markPending.run(imageId, imageId);
  }

  setThumbnail(imageId: number, thumbPath: string): void {
    this.stmts.setThumb.run(thumbPath, imageId);
  }

  pendingImages(): ImageRow[] {
    return this.stmts.pending.all();
  }

  row(id: number): ImageRow | undefined {
    return this.stmts.byId.get(id);
  }

  private requireRow(id: number): ImageRow {
    const row = this.stmts.byId.get(id);
    if (!row) throw new EngineError(ErrorCodes.notFound, `There is no record ${id}.`);
    return row;
  }

  /** Recomputes the effective label, abnormal flag and search text from the row and its reviews. */
  private refreshDerived(row: ImageRow): void {
    const effective = row.reviewed_label ?? row.model_label;
    const info = effective ? this.labelById.get(effective) : undefined;
    const abnormal = info ? (info.abnormal ? 1 : 0) : null;
    const notes = this.stmts.notes.all(row.id).map((n) => n.note);
    const text = searchText({
      fileName: row.file_name,
      patientId: row.patient_id,
      labels: [row.model_label, row.reviewed_label].map((l) => (l ? (this.labelById.get(l) ?? l) : null)),
      notes,
    });
    this.stmts.setDerived.run(effective, abnormal, text, row.id);
  }

  /** Appends a review. An override must name a model label or a gate outcome. */
  addReview(input: {
    recordId: number;
    action: ReviewAction;
    label?: string;
    note: string;
    reviewer: string;
  }): void {
    this.db.transaction(() => {
      const row = this.requireRow(input.recordId);
      let label: string | null;
      if (input.action === 'confirm') {
        if (row.status !== 'done') {
          throw new EngineError(
            ErrorCodes.invalidArgs,
            'Only a diagnosed record can be confirmed; override it instead.',
          );
        }
        label = row.reviewed_label ?? row.model_label ?? row.gate;
      } else {
        label = input.label ?? null;
        const allowed =
          label !== null && (this.labelById.has(label) || (GATE_LABELS as readonly string[]).includes(label));
        if (!allowed) {
          throw new EngineError(
            ErrorCodes.invalidArgs,
            `Unknown label "${label}". Choose one of: ${[...this.labelById.keys(), ...GATE_LABELS].join(', ')}.`,
          );
        }
      }
      const createdAt = now();
      this.stmts.insertReview.run({
        imageId: row.id,
        action: input.action,
        label,
        note: input.note,
        reviewer: input.reviewer,
        createdAt,
      });
      const reviewedLabel = label;
      this.stmts.setReviewed.run(reviewedLabel, input.reviewer, createdAt, row.id);
      this.refreshDerived({ ...row, reviewed_label: reviewedLabel });
    })();
  }

  updatePatient(id: number, patientId: string | null, ear: Ear): void {
    this.db.transaction(() => {
      const row = this.requireRow(id);
      const pid = patientId && patientId.length > 0 ? patientId : null;
      if (pid) this.stmts.ensurePatient.run(pid, now());
      const at = now();
      if (row.patient_id !== pid) this.stmts.insertEdit.run(id, 'patient_id', row.patient_id, pid, at);
      if (row.ear !== ear) this.stmts.insertEdit.run(id, 'ear', row.ear, ear, at);
      this.stmts.setPatient.run(pid, ear, id);
      this.refreshDerived({ ...row, patient_id: pid, ear });
    })();
  }

  summary(id: number): RecordSummary | null {
    const row = this.stmts.byId.get(id);
    return row ? toSummary(row) : null;
  }

  detail(id: number): RecordDetail | null {
    const row = this.stmts.byId.get(id);
    if (!row) return null;
    const d = row.diagnosis_id !== null ? this.stmts.diagnosisById.get(row.diagnosis_id) : undefined;
    const primary = row.primary_id ?? row.id;
    return {
      record: toSummary(row),
      image: { sizeBytes: row.size_bytes, width: row.width, height: row.height, format: row.format },
      diagnosis: d ? toDiagnosisView(d) : null,
      reviews: this.stmts.reviewsOf.all(id).map(toReview),
      patientEdits: this.stmts.patientEditsOf.all(id).map(toPatientEdit),
      samePhoto: this.stmts.photoGroup
        .all(primary, primary)
        .filter((r) => r.id !== id)
        .map(toSamePhoto),
    };
  }

  list(args: { filter: RecordFilter; sort: RecordSort; offset: number; limit: number }): RecordPage {
    return this.queries.list(args);
  }

  /** The board grouped by visit (see RecordQueries.visits). */
  visits(args: { filter: RecordFilter; offset: number; limit: number }): VisitPage {
    return this.queries.visits(args);
  }

  countsPerDay(filter: RecordFilter): CountsPerDay {
    return this.queries.countsPerDay(filter);
  }

  /** See RecordQueries.exportRows. */
  exportRows(filter: RecordFilter, sort: RecordSort): Generator<ExportRow> {
    return this.queries.exportRows(filter, sort);
  }

  counts(): { total: number; done: number; failed: number; pending: number } {
    return this.queries.counts();
  }
}
