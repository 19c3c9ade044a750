import type Database from 'better-sqlite3';
import type { DiagnosisRow, ImageRow, PatientEditRow, ReviewRow } from './record-rows.ts';

/** The record store's prepared statements, compiled once per connection. */
export function prepareRecordStatements(db: Database.Database) {
  return {
    // The record that holds a photo's stored copy (and so its diagnosis).
    bySha: db.prepare<[string], { id: number; status: string }>(
      'SELECT id, status FROM images WHERE sha256 = ? AND primary_id IS NULL AND stored_path IS NOT NULL',
    ),
    photoGroup: db.prepare<[number, number], ImageRow>(
      'SELECT * FROM images WHERE id = ? OR primary_id = ? ORDER BY id',
    ),
    addSource: db.prepare(
      `INSERT INTO images (sha256, primary_id, file_name, original_path, source, stored_path, thumb_path,
         overlay_path, size_bytes, width, height, format, captured_at, captured_ms, capture_source, ingested_at,
         status, failure_code, failure_message, patient_id, ear, patient_source, diagnosis_id, gate,
         gate_reason, model_label, confidence, decision, search_text)
       SELECT sha256, id, @fileName, @originalPath, @source, stored_path, thumb_path, overlay_path, size_bytes,
         width, height, format, @capturedAt, @capturedMs, @captureSource, @ingestedAt, status, failure_code,
         failure_message, @patientId, @ear, @patientSource, diagnosis_id, gate, gate_reason, model_label,
         confidence, decision, ''
       FROM images WHERE id = @primaryId`,
    ),
    sourcesBySizeMtime: db.prepare<[string, number, number], { path: string; image_id: number }>(
      `SELECT sf.path, sf.image_id FROM source_files sf JOIN images i ON i.id = sf.image_id
       WHERE i.sha256 = ? AND i.source = 'watch' AND sf.size = ? AND sf.mtime_ms = ? ORDER BY sf.image_id`,
    ),
    byId: db.prepare<[number], ImageRow>('SELECT * FROM images WHERE id = ?'),
    source: db.prepare<[string], { size: number; mtime_ms: number; image_id: number | null }>(
      'SELECT size, mtime_ms, image_id FROM source_files WHERE path = ?',
    ),
    upsertSource: db.prepare(
      `INSERT INTO source_files (path, size, mtime_ms, image_id, seen_at) VALUES (@path, @size, @mtimeMs, @imageId, @seenAt)
       ON CONFLICT (path) DO UPDATE SET size = excluded.size, mtime_ms = excluded.mtime_ms,
         image_id = excluded.image_id, seen_at = excluded.seen_at`,
    ),
    ensurePatient: db.prepare('INSERT OR IGNORE INTO patients (id, created_at) VALUES (?, ?)'),
    insertImage: db.prepare(
      `INSERT INTO images (sha256, file_name, original_path, source, stored_path, thumb_path, size_bytes, width, height,
         format, captured_at, captured_ms, capture_source, ingested_at, status, failure_code, failure_message,
         patient_id, ear, patient_source, search_text)
       VALUES (@sha256, @fileName, @originalPath, @source, @storedPath, @thumbPath, @sizeBytes, @width, @height,
         @format, @capturedAt, @capturedMs, @captureSource, @ingestedAt, @status, @failureCode, @failureMessage,
         @patientId, @ear, @patientSource, @searchText)`,
    ),
    insertDiagnosis: db.prepare(
      `INSERT INTO diagnoses (image_id, model_id, model_version, backend, gate, gate_reason, eardrum_probability,
         label, probabilities, decision, not_sure_reasons, unfamiliarity, heatmap, decode_ms, inference_ms,
         total_ms, created_at)
       VALUES (@imageId, @modelId, @modelVersion, @backend, @gate, @gateReason, @eardrumProbability, @label,
         @probabilities, @decision, @notSureReasons, @unfamiliarity, @heatmap, @decodeMs, @inferenceMs,
         @totalMs, @createdAt)`,
    ),
    diagnosisById: db.prepare<[number], DiagnosisRow>('SELECT * FROM diagnoses WHERE id = ?'),
    reviewsOf: db.prepare<[number], ReviewRow>('SELECT * FROM reviews WHERE image_id = ? ORDER BY id'),
    // Every edit here was applied: only a room's queue for a shared history writes one that was not.
    patientEditsOf: db.prepare<[number], PatientEditRow>(
      `SELECT field, old_value, new_value, created_at, 1 AS applied FROM image_edits
       WHERE image_id = ? AND field IN ('patient_id', 'ear') ORDER BY created_at, id`,
    ),
    insertReview: db.prepare(
      `INSERT INTO reviews (image_id, action, label, note, reviewer, created_at)
       VALUES (@imageId, @action, @label, @note, @reviewer, @createdAt)`,
    ),
    pending: db.prepare<[], ImageRow>(
      "SELECT * FROM images WHERE status = 'pending' AND primary_id IS NULL ORDER BY id",
    ),
    insertEdit: db.prepare(
      'INSERT INTO image_edits (image_id, field, old_value, new_value, created_at) VALUES (?, ?, ?, ?, ?)',
    ),
    notes: db.prepare<[number], { note: string }>(
      "SELECT note FROM reviews WHERE image_id = ? AND note <> ''",
    ),
    registerModel: db.prepare(
      'INSERT OR IGNORE INTO models (id, version, labels, card, registered_at) VALUES (?, ?, ?, ?, ?)',
    ),
    moveFile: db.prepare(
      'UPDATE images SET original_path = ?, file_name = ?, patient_id = ?, ear = ?, patient_source = ? WHERE id = ?',
    ),
    forgetSource: db.prepare('DELETE FROM source_files WHERE path = ? AND image_id = ?'),
    markDone:
      db.prepare(`UPDATE images SET status = 'done', failure_code = NULL, failure_message = NULL, diagnosis_id = @diagnosisId,
             gate = @gate, gate_reason = @gateReason, model_label = @label, confidence = @confidence,
             decision = @decision, overlay_path = @overlayPath, width = coalesce(width, @width), height = coalesce(height, @height),
             format = coalesce(format, @format)
           WHERE id = @id OR primary_id = @id`),
    markFailed: db.prepare(
      "UPDATE images SET status = 'failed', failure_code = ?, failure_message = ? WHERE id = ? OR primary_id = ?",
    ),
    markPending: db.prepare(
      "UPDATE images SET status = 'pending', failure_code = NULL, failure_message = NULL WHERE id = ? OR primary_id = ?",
    ),
    setThumb: db.prepare('UPDATE images SET thumb_path = ? WHERE id = ?'),
    setDerived: db.prepare(
      'UPDATE images SET effective_label = ?, abnormal = ?, search_text = ? WHERE id = ?',
    ),
    setReviewed:
      db.prepare(`UPDATE images SET reviewed_label = ?, review_count = review_count + 1, last_reviewer = ?, last_reviewed_at = ?
           WHERE id = ?`),
    setPatient: db.prepare(
      "UPDATE images SET patient_id = ?, ear = ?, patient_source = 'manual' WHERE id = ?",
    ),
  };
}

export type RecordStatements = ReturnType<typeof prepareRecordStatements>;
