import type pg from 'pg';
import type { Ear, LabelInfo } from '../../common/contract.ts';
import { ErrorCodes } from '../../common/contract.ts';
import { EngineError } from '../util/errors.ts';
import { inTransaction, type Queryable } from './pg-pool.ts';
import type { ImageRow } from './record-rows.ts';
import { searchText } from './record-rows.ts';
import { GATE_LABELS } from './records.ts';
import type { EditTime, ReviewInput } from './store.ts';

const now = () => new Date().toISOString();

/**
 * PostgreSQL's record edits: reviews, patient edits and followed renames, each one transaction with the
 * record's row locked (two rooms editing one record take turns), and the board columns they change.
 */
export class PgRecordEdits {
  constructor(
    private readonly pool: pg.Pool,
    private readonly labelById: () => Map<string, LabelInfo>,
  ) {}

  async rememberSource(
    filePath: string,
    size: number,
    mtimeMs: number,
    imageId: number,
    q: Queryable = this.pool,
  ) {
    await q.query(
      `INSERT INTO source_files (path, size, mtime_ms, image_id, seen_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (path) DO UPDATE SET size = excluded.size, mtime_ms = excluded.mtime_ms,
         image_id = excluded.image_id, seen_at = excluded.seen_at`,
      [filePath, size, Math.trunc(mtimeMs), imageId, now()],
    );
  }
  async ensurePatient(q: Queryable, id: string | null): Promise<void> {
    if (id)
      await q.query('INSERT INTO patients (id, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
        id,
        now(),
      ]);
  }

  async edit(q: Queryable, id: number, field: string, from: string | null, to: string | null, at: string) {
    await q.query(
      'INSERT INTO image_edits (image_id, field, old_value, new_value, created_at) VALUES ($1, $2, $3, $4, $5)',
      [id, field, from, to, at],
    );
  }

  async moveSource(
    id: number,
    from: string,
    to: { path: string; fileName: string; size: number; mtimeMs: number },
    parsed: { patientId: string | null; ear: Ear; matched: boolean },
  ): Promise<void> {
    await inTransaction(this.pool, async (c) => {
      const row = await this.requireRow(c, id, true);
      const at = now();
      let { patient_id: pid, ear } = row;
      let patientSource = row.patient_source;
      if (row.patient_source === 'pattern' || row.patient_source === 'none') {
        pid = parsed.patientId;
        ear = parsed.ear;
        patientSource = parsed.matched ? 'pattern' : 'none';
        await this.ensurePatient(c, pid);
        if (row.patient_id !== pid) await this.edit(c, id, 'patient_id', row.patient_id, pid, at);
        if (row.ear !== ear) await this.edit(c, id, 'ear', row.ear, ear, at);
      }
      await this.edit(c, id, 'original_path', row.original_path, to.path, at);
      await c.query(
        'UPDATE images SET original_path = $1, file_name = $2, patient_id = $3, ear = $4, patient_source = $5 WHERE id = $6',
        [to.path, to.fileName, pid, ear, patientSource, id],
      );
      await c.query('DELETE FROM source_files WHERE path = $1 AND image_id = $2', [from, id]);
      await this.rememberSource(to.path, to.size, to.mtimeMs, id, c);
      await this.refreshDerived(c, { ...row, file_name: to.fileName, patient_id: pid, ear });
    });
  }

  /** The row, locked for this transaction when `lock` (two rooms reviewing one record take turns). */
  async requireRow(q: Queryable, id: number, lock = false): Promise<ImageRow> {
    const r = await q.query<ImageRow>(`SELECT * FROM images WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id]);
    if (!r.rows[0]) throw new EngineError(ErrorCodes.notFound, `There is no record ${id}.`);
    return r.rows[0];
  }

  /** Recomputes the effective label, abnormal flag and search text from the row and its reviews. */
  async refreshDerived(q: Queryable, row: ImageRow): Promise<void> {
    const effective = row.reviewed_label ?? row.model_label;
    const info = effective ? this.labelById().get(effective) : undefined;
    const abnormal = info ? (info.abnormal ? 1 : 0) : null;
    const notes = (
      await q.query<{ note: string }>(
        "SELECT note FROM reviews WHERE image_id = $1 AND note <> '' ORDER BY id",
        [row.id],
      )
    ).rows.map((n) => n.note);
    const text = searchText({
      fileName: row.file_name,
      patientId: row.patient_id,
      labels: [row.model_label, row.reviewed_label].map((l) => (l ? (this.labelById().get(l) ?? l) : null)),
      notes,
    });
    await q.query('UPDATE images SET effective_label = $1, abnormal = $2, search_text = $3 WHERE id = $4', [
      effective,
      abnormal,
      text,
      row.id,
    ]);
  }

  async addReview(input: ReviewInput): Promise<void> {
    await inTransaction(this.pool, async (c) => {
      const row = await this.requireRow(c, input.recordId, true);
      let label: string | null;
      if (input.action === 'confirm') {
        if (row.status !== 'done')
          throw new EngineError(
            ErrorCodes.invalidArgs,
            'Only a diagnosed record can be confirmed; override it instead.',
          );
        label = row.reviewed_label ?? row.model_label ?? row.gate;
      } else {
        label = input.label ?? null;
        const allowed =
          label !== null &&
          (this.labelById().has(label) || (GATE_LABELS as readonly string[]).includes(label));
        if (!allowed)
          throw new EngineError(
            ErrorCodes.invalidArgs,
            `Unknown label "${label}". Choose one of: ${[...this.labelById().keys(), ...GATE_LABELS].join(', ')}.`,
          );
      }
      const createdAt = input.createdAt ?? now();
      if (input.createdAt !== undefined) {
        // Written before (a replay of the local queue): the label is left out, as a confirm's is re-read.
        const again = await c.query(
          `SELECT 1 FROM reviews WHERE image_id = $1 AND action = $2 AND note = $3 AND reviewer = $4
             AND created_at = $5`,
          [row.id, input.action, input.note, input.reviewer, createdAt],
        );
        if (again.rowCount) return;
      }
      await c.query(
        'INSERT INTO reviews (image_id, action, label, note, reviewer, created_at) VALUES ($1, $2, $3, $4, $5, $6)',
        [row.id, input.action, label, input.note, input.reviewer, createdAt],
      );
      // A review made earlier than the latest one (kept while the server was away) joins the audit trail
      // without taking the board's place of the later one.
      // (Only then: rooms' clocks may differ, and a review made now is the latest whatever they say.)
      const latest = !input.queued || row.last_reviewed_at === null || row.last_reviewed_at <= createdAt;
      await c.query(
        `UPDATE images SET review_count = review_count + 1, reviewed_label = CASE WHEN $5 THEN $1 ELSE reviewed_label END,
           last_reviewer = CASE WHEN $5 THEN $2 ELSE last_reviewer END,
           last_reviewed_at = CASE WHEN $5 THEN $3 ELSE last_reviewed_at END WHERE id = $4`,
        [label, input.reviewer, createdAt, row.id, latest],
      );
      await this.refreshDerived(c, { ...row, reviewed_label: latest ? label : row.reviewed_label });
    });
  }

  /**
   * A queued patient edit a newer one overrides: for each field it changed from the value in force at its
   * time (the last applied edit's value before it, else the first applied edit's old value after it), one
   * row with `applied = false`. A field it left as it was gets no row, as for an edit applied at once.
   */
  private async overridden(q: Queryable, row: ImageRow, pid: string | null, ear: Ear, at: string) {
    for (const [field, to, current] of [
      ['patient_id', pid, row.patient_id],
      ['ear', ear, row.ear],
    ] as const) {
      const r = await q.query<{ value: string | null }>(
        `(SELECT new_value AS value, 0 AS side FROM image_edits WHERE image_id = $1 AND field = $2 AND applied
            AND created_at <= $3 ORDER BY created_at DESC, id DESC LIMIT 1)
         UNION ALL
         (SELECT old_value, 1 FROM image_edits WHERE image_id = $1 AND field = $2 AND applied
            AND created_at > $3 ORDER BY created_at, id LIMIT 1)
         ORDER BY side LIMIT 1`,
        [row.id, field, at],
      );
      const from = r.rows[0] ? r.rows[0].value : current;
      if (from !== to)
        await q.query(
          `INSERT INTO image_edits (image_id, field, old_value, new_value, created_at, applied)
           VALUES ($1, $2, $3, $4, $5, false)`,
          [row.id, field, from, to, at],
        );
    }
  }

  async updatePatient(id: number, patientId: string | null, ear: Ear, time?: EditTime): Promise<void> {
    await inTransaction(this.pool, async (c) => {
      const row = await this.requireRow(c, id, true);
      const pid = patientId && patientId.length > 0 ? patientId : null;
      const at = time?.at ?? now();
      if (time) {
        const r = await c.query<{ same: boolean | null; newer: boolean | null }>(
          `SELECT bool_or(created_at = $2) AS same, bool_or(created_at > $2) AS newer FROM image_edits
           WHERE image_id = $1 AND field IN ('patient_id', 'ear')`,
          [id, at],
        );
        if (r.rows[0]?.same) return; // written before (a replay)
        // A newer edit of this record stands (another room's meanwhile, or a later one here): this one joins
        // the audit trail at its own time, marked not applied, and the record keeps the newer values.
        if (time.queued && r.rows[0]?.newer) return this.overridden(c, row, pid, ear, at);
      }
      await this.ensurePatient(c, pid);
      if (row.patient_id !== pid) await this.edit(c, id, 'patient_id', row.patient_id, pid, at);
      if (row.ear !== ear) await this.edit(c, id, 'ear', row.ear, ear, at);
      await c.query("UPDATE images SET patient_id = $1, ear = $2, patient_source = 'manual' WHERE id = $3", [
        pid,
        ear,
        id,
      ]);
      await this.refreshDerived(c, { ...row, patient_id: pid, ear });
    });
  }
}
