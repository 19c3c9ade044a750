import { createHash } from 'node:crypto';

/**
 * Numbered migrations. Append only: a migration that has shipped is never edited (its checksum is stored
 * and checked at every start), a change is a new migration. `PRAGMA user_version` holds the applied number.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
  /**
   * Rebuilds a table that others reference (SQLite cannot drop a column constraint in place): run with
   * foreign keys off, then `foreign_key_check` must come back empty before the transaction commits.
   */
  rebuildsTables?: boolean;
}

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
CREATE TABLE schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  checksum TEXT NOT NULL,
  applied_at TEXT NOT NULL
);

CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE patients (
  id TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 128),
  created_at TEXT NOT NULL
);

-- One row per distinct image (by SHA-256 of its bytes). The latest diagnosis and review are copied onto the
-- row (in the same transaction as the source rows) so the board can filter and sort without joins.
CREATE TABLE images (
  id INTEGER PRIMARY KEY,
  sha256 TEXT NOT NULL UNIQUE CHECK (length(sha256) = 64),
  file_name TEXT NOT NULL,
  original_path TEXT NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('watch', 'upload')),
  stored_path TEXT,
  size_bytes INTEGER NOT NULL,
  width INTEGER,
  height INTEGER,
  format TEXT,
  captured_at TEXT NOT NULL,
  capture_source TEXT NOT NULL CHECK (capture_source IN ('exif', 'name', 'mtime', 'upload')),
  ingested_at TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
  failure_code TEXT,
  failure_message TEXT,
  patient_id TEXT REFERENCES patients(id) ON UPDATE CASCADE,
  ear TEXT NOT NULL DEFAULT 'unknown' CHECK (ear IN ('left', 'right', 'unknown')),
  patient_source TEXT NOT NULL DEFAULT 'none' CHECK (patient_source IN ('pattern', 'manual', 'upload', 'none')),
  thumb_path TEXT,
  overlay_path TEXT,
  diagnosis_id INTEGER REFERENCES diagnoses(id),
  gate TEXT CHECK (gate IN ('eardrum', 'not_eardrum', 'ungradable')),
  gate_reason TEXT,
  model_label TEXT,
  confidence REAL,
  reviewed_label TEXT,
  review_count INTEGER NOT NULL DEFAULT 0,
  last_reviewer TEXT,
  last_reviewed_at TEXT,
  effective_label TEXT,
  abnormal INTEGER CHECK (abnormal IN (0, 1)),
  search_text TEXT NOT NULL DEFAULT ''
);
CREATE INDEX images_captured ON images (captured_at);
CREATE INDEX images_ingested ON images (ingested_at);
CREATE INDEX images_label_captured ON images (effective_label, captured_at);
CREATE INDEX images_patient ON images (patient_id, captured_at);
CREATE INDEX images_status ON images (status);

-- The model's answers. Never updated: a new model version adds a row.
CREATE TABLE diagnoses (
  id INTEGER PRIMARY KEY,
  image_id INTEGER NOT NULL REFERENCES images(id),
  model_id TEXT NOT NULL,
  model_version TEXT NOT NULL,
  backend TEXT NOT NULL,
  gate TEXT NOT NULL CHECK (gate IN ('eardrum', 'not_eardrum', 'ungradable')),
  gate_reason TEXT,
  eardrum_probability REAL NOT NULL,
  label TEXT,
  probabilities TEXT NOT NULL,
  heatmap TEXT,
  decode_ms REAL NOT NULL,
  inference_ms REAL NOT NULL,
  total_ms REAL NOT NULL,
  created_at TEXT NOT NULL,
  UNIQUE (image_id, model_id, model_version)
);
CREATE TRIGGER diagnoses_append_only_u BEFORE UPDATE ON diagnoses
  BEGIN SELECT RAISE(ABORT, 'diagnoses are append-only'); END;
CREATE TRIGGER diagnoses_append_only_d BEFORE DELETE ON diagnoses
  BEGIN SELECT RAISE(ABORT, 'diagnoses are append-only'); END;

-- Clinician reviews: the audit trail. Never updated or deleted.
CREATE TABLE reviews (
  id INTEGER PRIMARY KEY,
  image_id INTEGER NOT NULL REFERENCES images(id),
  action TEXT NOT NULL CHECK (action IN ('confirm', 'override')),
  label TEXT,
  note TEXT NOT NULL DEFAULT '',
  reviewer TEXT NOT NULL CHECK (length(reviewer) BETWEEN 1 AND 100),
  created_at TEXT NOT NULL
);
CREATE INDEX reviews_image ON reviews (image_id, id);
CREATE TRIGGER reviews_append_only_u BEFORE UPDATE ON reviews
  BEGIN SELECT RAISE(ABORT, 'reviews are append-only'); END;
CREATE TRIGGER reviews_append_only_d BEFORE DELETE ON reviews
  BEGIN SELECT RAISE(ABORT, 'reviews are append-only'); END;

-- Hand edits of patient id and ear, kept as an audit trail too.
CREATE TABLE image_edits (
  id INTEGER PRIMARY KEY,
  image_id INTEGER NOT NULL REFERENCES images(id),
  field TEXT NOT NULL,
  old_value TEXT,
  new_value TEXT,
  created_at TEXT NOT NULL
);

-- Files seen in the watched folder, so a restart does not re-read files already ingested.
CREATE TABLE source_files (
  path TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  mtime_ms INTEGER NOT NULL,
  image_id INTEGER REFERENCES images(id),
  seen_at TEXT NOT NULL
);
CREATE INDEX source_files_image ON source_files (image_id);
`,
  },
  {
    version: 2,
    name: 'models seen, with their cards',
    sql: `
-- The card of every model that produced diagnoses, so exports and history keep label names and thresholds
-- even after the shipped model changes.
CREATE TABLE models (
  id TEXT NOT NULL,
  version TEXT NOT NULL,
  labels TEXT NOT NULL,
  card TEXT NOT NULL,
  registered_at TEXT NOT NULL,
  PRIMARY KEY (id, version)
);
`,
  },
  {
    version: 3,
    name: 'board speed: capture time in ms, trigram text index, covering indexes',
    sql: `
-- Integer capture time: counting per day becomes arithmetic instead of a date function per row.
ALTER TABLE images ADD COLUMN captured_ms INTEGER;
UPDATE images SET captured_ms = CAST(round((julianday(captured_at) - 2440587.5) * 86400000) AS INTEGER);
CREATE INDEX images_day_buckets ON images (captured_ms, effective_label, status, gate);
CREATE INDEX images_review_abnormal ON images (review_count, abnormal, confidence);

-- Substring search (file name, patient, labels in English and Korean, review notes) through a trigram index.
CREATE VIRTUAL TABLE images_fts USING fts5(search_text, content='images', content_rowid='id', tokenize='trigram');
INSERT INTO images_fts (images_fts) VALUES ('rebuild');
CREATE TRIGGER images_fts_ai AFTER INSERT ON images BEGIN
  INSERT INTO images_fts (rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER images_fts_ad AFTER DELETE ON images BEGIN
  INSERT INTO images_fts (images_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
END;
CREATE TRIGGER images_fts_au AFTER UPDATE OF search_text ON images BEGIN
  INSERT INTO images_fts (images_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
  INSERT INTO images_fts (rowid, search_text) VALUES (new.id, new.search_text);
END;
`,
  },
  {
    version: 4,
    name: 'who changed a threshold, and when',
    sql: `
-- Every change of a setting that alters how photos are judged (the thresholds), with who made it.
-- Never updated or deleted, like the reviews.
CREATE TABLE settings_changes (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL,
  old_value REAL,
  new_value REAL,
  changed_by TEXT NOT NULL CHECK (length(changed_by) BETWEEN 1 AND 100),
  changed_at TEXT NOT NULL
);
CREATE TRIGGER settings_changes_append_only_u BEFORE UPDATE ON settings_changes
  BEGIN SELECT RAISE(ABORT, 'settings changes are append-only'); END;
CREATE TRIGGER settings_changes_append_only_d BEFORE DELETE ON settings_changes
  BEGIN SELECT RAISE(ABORT, 'settings changes are append-only'); END;
`,
  },
  {
    version: 5,
    name: 'heatmaps are layers in the photo geometry',
    sql: `
-- Overlays written before this version are the model's 192 px crop with the heatmap blended into its
-- colours: laid over the photo they do not line up. They are no longer shown (the files stay in the
-- library); results from now on get a transparent layer, named *-layer.png.
UPDATE images SET overlay_path = NULL WHERE overlay_path IS NOT NULL AND overlay_path NOT LIKE '%-layer.png';
`,
  },
  {
    version: 6,
    name: 'one photo, several sources: records share a photo and its diagnosis',
    rebuildsTables: true,
    sql: `
-- The same bytes saved under another name (another patient, another ear) become a record of their own that
-- shares the first record's stored copy and diagnosis: sha256 is no longer unique per record, only per photo
-- (the record holding the copy, primary_id NULL). Files that failed before being stored (empty, not an image,
-- too large) hold no copy and never share: each keeps its own failure.
CREATE TABLE images_v4 (
  id INTEGER PRIMARY KEY,
  sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
  primary_id INTEGER REFERENCES images(id),
  file_name TEXT NOT NULL,
  original_path TEXT NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('watch', 'upload')),
  stored_path TEXT,
  size_bytes INTEGER NOT NULL,
  width INTEGER,
  height INTEGER,
  format TEXT,
  captured_at TEXT NOT NULL,
  captured_ms INTEGER,
  capture_source TEXT NOT NULL CHECK (capture_source IN ('exif', 'name', 'mtime', 'upload')),
  ingested_at TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
  failure_code TEXT,
  failure_message TEXT,
  patient_id TEXT REFERENCES patients(id) ON UPDATE CASCADE,
  ear TEXT NOT NULL DEFAULT 'unknown' CHECK (ear IN ('left', 'right', 'unknown')),
  patient_source TEXT NOT NULL DEFAULT 'none' CHECK (patient_source IN ('pattern', 'manual', 'upload', 'none')),
  thumb_path TEXT,
  overlay_path TEXT,
  diagnosis_id INTEGER REFERENCES diagnoses(id),
  gate TEXT CHECK (gate IN ('eardrum', 'not_eardrum', 'ungradable')),
  gate_reason TEXT,
  model_label TEXT,
  confidence REAL,
  reviewed_label TEXT,
  review_count INTEGER NOT NULL DEFAULT 0,
  last_reviewer TEXT,
  last_reviewed_at TEXT,
  effective_label TEXT,
  abnormal INTEGER CHECK (abnormal IN (0, 1)),
  search_text TEXT NOT NULL DEFAULT ''
);
INSERT INTO images_v4 (id, sha256, primary_id, file_name, original_path, source, stored_path, size_bytes, width,
  height, format, captured_at, captured_ms, capture_source, ingested_at, status, failure_code, failure_message,
  patient_id, ear, patient_source, thumb_path, overlay_path, diagnosis_id, gate, gate_reason, model_label,
  confidence, reviewed_label, review_count, last_reviewer, last_reviewed_at, effective_label, abnormal,
  search_text)
SELECT id, sha256, NULL, file_name, original_path, source, stored_path, size_bytes, width, height, format,
  captured_at, captured_ms, capture_source, ingested_at, status, failure_code, failure_message, patient_id, ear,
  patient_source, thumb_path, overlay_path, diagnosis_id, gate, gate_reason, model_label, confidence,
  reviewed_label, review_count, last_reviewer, last_reviewed_at, effective_label, abnormal, search_text
FROM images;
DROP TABLE images;
ALTER TABLE images_v4 RENAME TO images;

CREATE INDEX images_captured ON images (captured_at);
CREATE INDEX images_ingested ON images (ingested_at);
CREATE INDEX images_label_captured ON images (effective_label, captured_at);
CREATE INDEX images_patient ON images (patient_id, captured_at);
CREATE INDEX images_status ON images (status);
CREATE INDEX images_day_buckets ON images (captured_ms, effective_label, status, gate);
CREATE INDEX images_review_abnormal ON images (review_count, abnormal, confidence);
CREATE INDEX images_sha ON images (sha256);
CREATE INDEX images_primary ON images (primary_id) WHERE primary_id IS NOT NULL;
CREATE UNIQUE INDEX images_one_copy_per_photo ON images (sha256) WHERE primary_id IS NULL AND stored_path IS NOT NULL;

CREATE TRIGGER images_fts_ai AFTER INSERT ON images BEGIN
  INSERT INTO images_fts (rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER images_fts_ad AFTER DELETE ON images BEGIN
  INSERT INTO images_fts (images_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
END;
CREATE TRIGGER images_fts_au AFTER UPDATE OF search_text ON images BEGIN
  INSERT INTO images_fts (images_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
  INSERT INTO images_fts (rowid, search_text) VALUES (new.id, new.search_text);
END;
`,
  },
  {
    version: 7,
    name: 'the model says whether it is sure',
    sql: `
-- The model's decision: 'confident' (it stands by its label) or 'not_sure' (a clinician decides; the
-- probabilities still apply), with why (a JSON array of 'low_confidence' / 'unfamiliar') and how far the photo
-- lies from the training photos. Diagnoses made before this version have none (NULL, an empty list): their
-- models had no such rule.
ALTER TABLE diagnoses ADD COLUMN decision TEXT CHECK (decision IN ('confident', 'not_sure'));
ALTER TABLE diagnoses ADD COLUMN not_sure_reasons TEXT NOT NULL DEFAULT '[]';
ALTER TABLE diagnoses ADD COLUMN unfamiliarity REAL;
-- Copied onto the record like the model's label, so the board filters on it without a join.
ALTER TABLE images ADD COLUMN decision TEXT CHECK (decision IN ('confident', 'not_sure'));
CREATE INDEX images_decision ON images (decision, captured_at);
`,
  },
];

export function checksum(m: Migration): string {
  return createHash('sha256').update(m.sql).digest('hex');
}

export const LATEST_SCHEMA_VERSION = migrations[migrations.length - 1]!.version;
