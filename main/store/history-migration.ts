import type Database from 'better-sqlite3';
import type pg from 'pg';
import type { LabelInfo } from '../../common/contract.ts';
import { copyLibraryFile } from '../library/library-copy.ts';
import type { LibraryModes } from '../library/library-modes.ts';
import { inTransaction } from './pg-pool.ts';
import { PgRecordEdits } from './pg-record-edits.ts';
import { DIAGNOSIS_COLUMNS, PHOTO_COLUMNS, RECORD_COLUMNS } from './history-migration-columns.ts';
import type { DiagnosisRow, ImageRow, ReviewRow } from './record-rows.ts';
import { isWorkstationSetting } from './settings-store.ts';

/** A record as SQLite holds it (captured_ms is the board's integer copy of captured_at). */
type SourceRow = ImageRow & { captured_ms: number | null };

/** Records copied per transaction: an interrupted run leaves whole records, and a rerun finishes the rest. */
const BATCH = 200;

export interface MigrationProgress {
  records: number;
  of: number;
  added: number;
  alreadyThere: number;
  /** Records whose photo another room had stored already: they join that photo. */
  joined: number;
  reviewsAdded: number;
  diagnosesAdded: number;
  filesCopied: number;
  filesMissing: string[];
}

export interface HistoryMigrationOptions {
  source: Database.Database;
  /** The folder holding the source's originals/, thumbs/ and overlays/. */
  sourceLibrary: string;
  target: pg.Pool;
  targetLibrary: string;
  /**
   * The name the source's workstation has in the shared history (paths.ts workstationName of its data
   * folder): its own settings (watched folder, file names...) are kept under it, not made the clinic's.
   */
  workstation: string;
  /** The target library's modes: open to the rooms' group when it is the shared library (`--library`). */
  targetModes?: LibraryModes;
  onProgress?: (p: MigrationProgress) => void;
}

const placeholders = (n: number, from = 1) => Array.from({ length: n }, (_, i) => `$${i + from}`).join(', ');

/**
 * Copies one workstation's SQLite history into the shared PostgreSQL store. Nothing is updated in place:
 * every row is inserted when absent, found by what identifies it (a record by its photo's hash, path and
 * ingest time; a diagnosis by photo and model version; a review, edit or settings change by all its fields),
 * so a rerun adds only what is new and the audit trails keep their original times and authors. A photo
 * another room stored already is not stored twice: this room's record joins it, as a further source does.
 */
export class HistoryMigration {
  private readonly progress: MigrationProgress = {
    records: 0,
    of: 0,
    added: 0,
    alreadyThere: 0,
    joined: 0,
    reviewsAdded: 0,
    diagnosesAdded: 0,
    filesCopied: 0,
    filesMissing: [],
  };
  private readonly recordIds = new Map<number, number>();
  private labelById = new Map<string, LabelInfo>();
  private readonly edits: PgRecordEdits;

  constructor(private readonly o: HistoryMigrationOptions) {
    this.edits = new PgRecordEdits(o.target, () => this.labelById);
  }

  async run(): Promise<MigrationProgress> {
    const src = this.o.source;
    this.progress.of = (src.prepare('SELECT count(*) AS n FROM images').get() as { n: number }).n;
    await this.copyReferenceTables();
    let after = 0;
    for (;;) {
      const rows = src
        .prepare('SELECT * FROM images WHERE id > ? ORDER BY id LIMIT ?')
        .all(after, BATCH) as SourceRow[];
      if (rows.length === 0) break;
      // Files first: a record in the shared store always finds its image in the library.
      for (const r of rows) await this.copyFiles(r);
      await inTransaction(this.o.target, async (c) => {
        for (const r of rows) await this.copyRecord(c, r);
      });
      after = rows.at(-1)!.id;
      this.o.onProgress?.({ ...this.progress });
    }
    // Until autovacuum comes by, a bulk load leaves the visibility map empty and the board's filtered totals
    // read the whole table (tens of milliseconds on 100,000 records instead of a few). Without ownership of
    // the tables PostgreSQL skips this with a warning, and autovacuum does it later.
    if (this.progress.added + this.progress.joined > 0)
      await this.o.target.query('VACUUM (ANALYZE) images, diagnoses, reviews');
    return { ...this.progress };
  }

  /** Models, patients, settings and the settings audit trail (rows the records refer to, or the clinic's). */
  private async copyReferenceTables(): Promise<void> {
    const src = this.o.source;
    await inTransaction(this.o.target, async (c) => {
      for (const m of src.prepare('SELECT * FROM models ORDER BY registered_at, rowid').all() as {
        id: string;
        version: string;
        labels: string;
        card: string;
        registered_at: string;
      }[])
        await c.query(
          `INSERT INTO models (id, version, labels, card, registered_at) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT DO NOTHING`,
          [m.id, m.version, m.labels, m.card, m.registered_at],
        );
      for (const p of src.prepare('SELECT id, created_at FROM patients').all() as {
        id: string;
        created_at: string;
      }[])
        await c.query('INSERT INTO patients (id, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
          p.id,
          p.created_at,
        ]);
      // The first room to bring a clinic setting sets the clinic's; later rooms keep what is there. A
      // workstation's own settings already in the shared history are newer than the source's: kept too.
      for (const s of src.prepare('SELECT key, value, updated_at FROM settings').all() as {
        key: string;
        value: string;
        updated_at: string;
      }[])
        if (isWorkstationSetting(s.key))
          await c.query(
            `INSERT INTO workstation_settings (workstation, key, value, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING`,
            [this.o.workstation, s.key, s.value, s.updated_at],
          );
        else
          await c.query(
            'INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
            [s.key, s.value, s.updated_at],
          );
      for (const ch of src.prepare('SELECT * FROM settings_changes ORDER BY id').all() as {
        key: string;
        old_value: number | null;
        new_value: number | null;
        changed_by: string;
        changed_at: string;
      }[])
        await c.query(
          `INSERT INTO settings_changes (key, old_value, new_value, changed_by, changed_at)
           SELECT $1, $2::double precision, $3::double precision, $4, $5 WHERE NOT EXISTS (
             SELECT 1 FROM settings_changes WHERE key = $1 AND old_value IS NOT DISTINCT FROM $2
               AND new_value IS NOT DISTINCT FROM $3 AND changed_by = $4 AND changed_at = $5)`,
          [ch.key, ch.old_value, ch.new_value, ch.changed_by, ch.changed_at],
        );
      const latest = await c.query<{ labels: string }>(
        'SELECT labels FROM models ORDER BY registered_at DESC, seq DESC LIMIT 1',
      );
      const labels = latest.rows[0] ? (JSON.parse(latest.rows[0].labels) as LabelInfo[]) : [];
      this.labelById = new Map(labels.map((l) => [l.id, l]));
    });
  }

  private async copyFiles(r: SourceRow): Promise<void> {
    for (const rel of [r.stored_path, r.thumb_path, r.overlay_path]) {
      if (!rel) continue;
      const copied = await copyLibraryFile(
        this.o.sourceLibrary,
        this.o.targetLibrary,
        rel,
        this.o.targetModes,
      );
      if (copied === 'copied') this.progress.filesCopied++;
      else if (copied === 'missing' && !this.progress.filesMissing.includes(rel))
        this.progress.filesMissing.push(rel);
    }
  }

  private async copyRecord(c: pg.PoolClient, r: SourceRow): Promise<void> {
    this.progress.records++;
    const existing = await c.query<{ id: number }>(
      'SELECT id FROM images WHERE sha256 = $1 AND original_path = $2 AND ingested_at = $3 AND source = $4',
      [r.sha256, r.original_path, r.ingested_at, r.source],
    );
    let id = existing.rows[0]?.id;
    if (id !== undefined) this.progress.alreadyThere++;
    else {
      id = await this.insertRecord(c, r);
      this.progress.added++;
    }
    this.recordIds.set(r.id, id);
    const photoId = (await this.edits.requireRow(c, id)).primary_id ?? id;
    if (r.primary_id === null) await this.copyDiagnoses(c, r, photoId);
    const added = (await this.copyReviews(c, r.id, id)) + (await this.copyEdits(c, r.id, id));
    if (existing.rows.length === 0 || added > 0) await this.refreshReviewColumns(c, id);
    for (const s of this.o.source
      .prepare('SELECT path, size, mtime_ms, seen_at FROM source_files WHERE image_id = ?')
      .all(r.id) as { path: string; size: number; mtime_ms: number; seen_at: string }[])
      // A path another room already remembers stays theirs (paths are the watching room's own).
      await c.query(
        `INSERT INTO source_files (path, size, mtime_ms, image_id, seen_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (path) DO NOTHING`,
        [s.path, s.size, s.mtime_ms, id, s.seen_at],
      );
  }

  /** A new record in the target: a photo of its own, or a further record of a photo already there. */
  private async insertRecord(c: pg.PoolClient, r: SourceRow): Promise<number> {
    const values = RECORD_COLUMNS.map((k) => r[k]);
    const insert = (primaryId: number | null, extra = '') =>
      c.query<{ id: number }>(
        `INSERT INTO images (primary_id, ${RECORD_COLUMNS.join(', ')})
         VALUES (${placeholders(RECORD_COLUMNS.length + 1)}) ${extra} RETURNING id`,
        [primaryId, ...values],
      );
    let photoId: number | undefined;
    if (r.primary_id !== null) {
      const mapped = this.recordIds.get(r.primary_id);
      if (mapped === undefined)
        throw new Error(`record ${r.id}'s photo (record ${r.primary_id}) was not copied before it`);
      photoId = (await this.edits.requireRow(c, mapped)).primary_id ?? mapped;
    } else if (r.stored_path !== null) {
      // Another room may hold this photo already (or store it at this moment): then this record joins it.
      const own = await insert(
        null,
        'ON CONFLICT (sha256) WHERE primary_id IS NULL AND stored_path IS NOT NULL DO NOTHING',
      );
      if (own.rows[0]) return own.rows[0].id;
      photoId = (
        await c.query<{ id: number }>(
          'SELECT id FROM images WHERE sha256 = $1 AND primary_id IS NULL AND stored_path IS NOT NULL',
          [r.sha256],
        )
      ).rows[0]!.id;
      this.progress.joined++;
    } else return (await insert(null)).rows[0]!.id;
    const id = (await insert(photoId)).rows[0]!.id;
    // The photo's copy, status and answer are the photo's record's in the target, as for any further source.
    await c.query(
      `UPDATE images t SET ${PHOTO_COLUMNS.map((k) => `${k} = p.${k}`).join(', ')}
       FROM images p WHERE p.id = $1 AND t.id = $2`,
      [photoId, id],
    );
    return id;
  }

  /**
   * The photo's diagnoses (they hang on the record holding the copy). A photo still waiting in the target
   * takes the source's answer, for all its records, as a commit would.
   */
  private async copyDiagnoses(c: pg.PoolClient, r: SourceRow, photoId: number): Promise<void> {
    const rows = this.o.source
      .prepare('SELECT * FROM diagnoses WHERE image_id = ? ORDER BY id')
      .all(r.id) as DiagnosisRow[];
    let current: number | null = null;
    for (const d of rows) {
      const ins = await c.query<{ id: number }>(
        `INSERT INTO diagnoses (image_id, ${DIAGNOSIS_COLUMNS.join(', ')})
         VALUES (${placeholders(DIAGNOSIS_COLUMNS.length + 1)})
         ON CONFLICT (image_id, model_id, model_version) DO NOTHING RETURNING id`,
        [photoId, ...DIAGNOSIS_COLUMNS.map((k) => d[k])],
      );
      if (ins.rows[0]) this.progress.diagnosesAdded++;
      const targetId =
        ins.rows[0]?.id ??
        (
          await c.query<{ id: number }>(
            'SELECT id FROM diagnoses WHERE image_id = $1 AND model_id = $2 AND model_version = $3',
            [photoId, d.model_id, d.model_version],
          )
        ).rows[0]!.id;
      if (d.id === r.diagnosis_id) current = targetId;
    }
    if (current === null) return;
    const updated = await c.query<ImageRow>(
      `UPDATE images SET status = $3, failure_code = NULL, failure_message = NULL, diagnosis_id = $2, gate = $4,
         gate_reason = $5, model_label = $6, confidence = $7, decision = $8, overlay_path = $9
       WHERE (id = $1 OR primary_id = $1) AND diagnosis_id IS NULL RETURNING *`,
      [
        photoId,
        current,
        r.status,
        r.gate,
        r.gate_reason,
        r.model_label,
        r.confidence,
        r.decision,
        r.overlay_path,
      ],
    );
    for (const row of updated.rows) await this.edits.refreshDerived(c, row);
  }

  private async copyReviews(c: pg.PoolClient, sourceId: number, id: number): Promise<number> {
    let added = 0;
    for (const v of this.o.source
      .prepare('SELECT * FROM reviews WHERE image_id = ? ORDER BY id')
      .all(sourceId) as ReviewRow[]) {
      const r = await c.query(
        `INSERT INTO reviews (image_id, action, label, note, reviewer, created_at)
         SELECT $1, $2, $3::text, $4, $5, $6 WHERE NOT EXISTS (
           SELECT 1 FROM reviews WHERE image_id = $1 AND action = $2 AND label IS NOT DISTINCT FROM $3
             AND note = $4 AND reviewer = $5 AND created_at = $6)`,
        [id, v.action, v.label, v.note, v.reviewer, v.created_at],
      );
      added += r.rowCount ?? 0;
    }
    this.progress.reviewsAdded += added;
    return added;
  }

  private async copyEdits(c: pg.PoolClient, sourceId: number, id: number): Promise<number> {
    let added = 0;
    for (const e of this.o.source
      .prepare(
        'SELECT field, old_value, new_value, created_at FROM image_edits WHERE image_id = ? ORDER BY id',
      )
      .all(sourceId) as {
      field: string;
      old_value: string | null;
      new_value: string | null;
      created_at: string;
    }[]) {
      const r = await c.query(
        `INSERT INTO image_edits (image_id, field, old_value, new_value, created_at)
         SELECT $1, $2, $3::text, $4::text, $5 WHERE NOT EXISTS (
           SELECT 1 FROM image_edits WHERE image_id = $1 AND field = $2 AND old_value IS NOT DISTINCT FROM $3
             AND new_value IS NOT DISTINCT FROM $4 AND created_at = $5)`,
        [id, e.field, e.old_value, e.new_value, e.created_at],
      );
      added += r.rowCount ?? 0;
    }
    return added;
  }

  /** The board's review columns from the record's reviews in the target (the latest by time wins). */
  private async refreshReviewColumns(c: pg.PoolClient, id: number): Promise<void> {
    const row = (
      await c.query<ImageRow>(
        `UPDATE images i SET review_count = s.n, reviewed_label = s.label, last_reviewer = s.reviewer,
           last_reviewed_at = s.created_at
         FROM (SELECT count(*)::int AS n,
                 (array_agg(label ORDER BY created_at DESC, id DESC))[1] AS label,
                 (array_agg(reviewer ORDER BY created_at DESC, id DESC))[1] AS reviewer,
                 max(created_at) AS created_at
               FROM reviews WHERE image_id = $1) s
         WHERE i.id = $1 RETURNING i.*`,
        [id],
      )
    ).rows[0]!;
    await this.edits.refreshDerived(c, row);
  }
}
