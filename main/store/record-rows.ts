import type {
  Decision,
  DiagnosisView,
  Ear,
  ErrorInfo,
  LabelInfo,
  PatientEdit,
  RecordDetail,
  RecordSummary,
  Review,
  ReviewAction,
} from '../../common/contract.ts';

/** Row shapes of the record tables and their mapping to the contract's types (shared by every store). */
export interface ImageRow {
  id: number;
  sha256: string;
  /** The record holding this photo's stored copy and diagnosis; null when this record is it. */
  primary_id: number | null;
  file_name: string;
  original_path: string;
  source: 'watch' | 'upload';
  stored_path: string | null;
  size_bytes: number;
  width: number | null;
  height: number | null;
  format: string | null;
  captured_at: string;
  capture_source: string;
  ingested_at: string;
  status: 'pending' | 'done' | 'failed';
  failure_code: string | null;
  failure_message: string | null;
  patient_id: string | null;
  ear: Ear;
  patient_source: string;
  thumb_path: string | null;
  overlay_path: string | null;
  diagnosis_id: number | null;
  gate: 'eardrum' | 'not_eardrum' | 'ungradable' | null;
  gate_reason: string | null;
  model_label: string | null;
  confidence: number | null;
  decision: Decision | null;
  reviewed_label: string | null;
  review_count: number;
  last_reviewer: string | null;
  last_reviewed_at: string | null;
  effective_label: string | null;
  abnormal: 0 | 1 | null;
  search_text: string;
  /** PostgreSQL (migration 6): the workstation whose transaction last changed the row. */
  changed_by?: string | null;
}

export interface DiagnosisRow {
  id: number;
  image_id: number;
  model_id: string;
  model_version: string;
  backend: string;
  gate: 'eardrum' | 'not_eardrum' | 'ungradable';
  gate_reason: string | null;
  eardrum_probability: number;
  label: string | null;
  probabilities: string;
  decision: Decision | null;
  /** JSON array of NotSureReason. */
  not_sure_reasons: string;
  unfamiliarity: number | null;
  heatmap: string | null;
  decode_ms: number;
  inference_ms: number;
  total_ms: number;
  created_at: string;
}

export interface ReviewRow {
  id: number;
  image_id: number;
  action: ReviewAction;
  label: string | null;
  note: string;
  reviewer: string;
  created_at: string;
}

export interface NewImage {
  sha256: string;
  fileName: string;
  originalPath: string;
  source: 'watch' | 'upload';
  storedPath: string | null;
  thumbPath: string | null;
  sizeBytes: number;
  width: number | null;
  height: number | null;
  format: string | null;
  capturedAt: string;
  captureSource: 'exif' | 'name' | 'mtime' | 'upload';
  patientId: string | null;
  ear: Ear;
  patientSource: 'pattern' | 'manual' | 'upload' | 'none';
  /** When given, the watched file is remembered so a restart does not read it again. */
  sourceFile?: { path: string; size: number; mtimeMs: number };
  /** Set for images that cannot be diagnosed at all (e.g. too large to store). */
  failure?: ErrorInfo;
}

/** A further file name (another patient, ear, capture time) that brought a photo already stored. */
export interface NewSource {
  fileName: string;
  originalPath: string;
  source: 'watch' | 'upload';
  capturedAt: string;
  captureSource: 'exif' | 'name' | 'mtime' | 'upload';
  patientId: string | null;
  ear: Ear;
  patientSource: 'pattern' | 'manual' | 'upload' | 'none';
  sourceFile?: { path: string; size: number; mtimeMs: number };
}

/** Columns of `exportRows`, in order; `EXPORT_INDEX[name]` is a column's position in each row array. */
export const EXPORT_COLUMNS = [
  'id',
  'captured_at',
  'ingested_at',
  'patient_id',
  'ear',
  'file_name',
  'original_path',
  'sha256',
  'status',
  'failure_message',
  'gate',
  'gate_reason',
  'model_label',
  'confidence',
  'decision',
  'not_sure_reasons',
  'reviewed_label',
  'last_reviewer',
  'last_reviewed_at',
  'effective_label',
  'abnormal',
  'eardrum_probability',
  'probabilities',
  'model_id',
  'model_version',
  'review_note',
] as const;
export type ExportColumn = (typeof EXPORT_COLUMNS)[number];
export type ExportRow = (string | number | null)[];
export const EXPORT_INDEX = Object.fromEntries(EXPORT_COLUMNS.map((c, i) => [c, i])) as Record<
  ExportColumn,
  number
>;
export const EXPORT_SQL: Record<ExportColumn, string> = {
  ...(Object.fromEntries(EXPORT_COLUMNS.map((c) => [c, `i.${c}`])) as Record<ExportColumn, string>),
  eardrum_probability: 'd.eardrum_probability',
  not_sure_reasons: 'd.not_sure_reasons',
  probabilities: 'd.probabilities',
  model_id: 'd.model_id',
  model_version: 'd.model_version',
  review_note: 'n.note',
};

export function searchText(p: {
  fileName: string;
  patientId: string | null;
  labels?: (LabelInfo | string | null)[];
  notes?: string[];
}): string {
  const parts: string[] = [p.fileName, p.patientId ?? ''];
  for (const l of p.labels ?? []) {
    if (!l) continue;
    if (typeof l === 'string') parts.push(l);
    else parts.push(l.id, l.en, l.ko);
  }
  parts.push(...(p.notes ?? []));
  return parts.filter(Boolean).join('\u0001').toLowerCase();
}

export function toSummary(r: ImageRow): RecordSummary {
  return {
    id: r.id,
    sha256: r.sha256,
    fileName: r.file_name,
    originalPath: r.original_path,
    source: r.source,
    capturedAt: r.captured_at,
    ingestedAt: r.ingested_at,
    status: r.status,
    failure: r.failure_code ? { code: r.failure_code, message: r.failure_message ?? '' } : null,
    patientId: r.patient_id,
    ear: r.ear,
    gate: r.gate,
    gateReason: r.gate_reason,
    modelLabel: r.model_label,
    confidence: r.confidence,
    decision: r.decision,
    reviewedLabel: r.reviewed_label,
    effectiveLabel: r.effective_label,
    abnormal: r.abnormal === null ? null : r.abnormal === 1,
    reviewed: r.review_count > 0,
    reviewCount: r.review_count,
    lastReviewer: r.last_reviewer,
    width: r.width,
    height: r.height,
    hasOverlay: r.overlay_path !== null,
    hasOriginal: r.stored_path !== null,
    hasThumbnail: r.thumb_path !== null,
  };
}

export function toDiagnosisView(d: DiagnosisRow): DiagnosisView {
  return {
    id: d.id,
    modelId: d.model_id,
    modelVersion: d.model_version,
    backend: d.backend,
    gate: d.gate,
    gateReason: d.gate_reason,
    eardrumProbability: d.eardrum_probability,
    label: d.label,
    probabilities: JSON.parse(d.probabilities) as Record<string, number>,
    decision: d.decision,
    notSureReasons: JSON.parse(d.not_sure_reasons) as DiagnosisView['notSureReasons'],
    unfamiliarity: d.unfamiliarity,
    heatmap: d.heatmap ? (JSON.parse(d.heatmap) as DiagnosisView['heatmap']) : null,
    timings: { decodeMs: d.decode_ms, inferenceMs: d.inference_ms, totalMs: d.total_ms },
    createdAt: d.created_at,
  };
}

export function toReview(r: ReviewRow): Review {
  return {
    id: r.id,
    recordId: r.image_id,
    action: r.action,
    label: r.label,
    note: r.note,
    reviewer: r.reviewer,
    createdAt: r.created_at,
  };
}

/** A row of image_edits about patient id or ear. */
export interface PatientEditRow {
  field: 'patient_id' | 'ear';
  old_value: string | null;
  new_value: string | null;
  created_at: string;
  /** SQLite has no edits but applied ones (1); PostgreSQL's boolean column. */
  applied: boolean | number;
}

export function toPatientEdit(r: PatientEditRow): PatientEdit {
  return {
    field: r.field === 'patient_id' ? 'patientId' : 'ear',
    from: r.old_value,
    to: r.new_value,
    at: r.created_at,
    applied: Boolean(r.applied),
  };
}

/** Another record of the same photo (the same file under another name), as Detail lists it. */
export function toSamePhoto(r: ImageRow): NonNullable<RecordDetail['samePhoto']>[number] {
  return { id: r.id, fileName: r.file_name, patientId: r.patient_id, ear: r.ear, capturedAt: r.captured_at };
}

/** A reviewed image as "Learn from reviewed photos" sees it. */
export interface ReviewedPhoto {
  id: number;
  storedPath: string;
  fileName: string;
  /** The reviewed label. */
  label: string;
  gate: 'eardrum' | 'not_eardrum' | 'ungradable' | null;
  modelLabel: string | null;
}
