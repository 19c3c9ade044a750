import type pg from 'pg';
import type {
  CountsPerDay,
  Ear,
  VisitPage,
  LabelInfo,
  RecordDetail,
  RecordFilter,
  RecordPage,
  RecordSort,
} from '../../common/contract.ts';
import { buildOrder, buildWhere } from './filters.ts';
import { checkOut, positional } from './pg-pool.ts';
import { countsFromBuckets } from './record-queries.ts';
import {
  EXPORT_COLUMNS,
  EXPORT_SQL,
  toDiagnosisView,
  toReview,
  toSummary,
  type DiagnosisRow,
  type ExportRow,
  type ImageRow,
  type PatientEditRow,
  type ReviewRow,
  toPatientEdit,
} from './record-rows.ts';

const EXPORT_BATCH = 2000;

/** The board's queries on PostgreSQL (the same filters as SQLite, as `$n` parameters). */
export class PgQueries {
  constructor(
    private readonly pool: pg.Pool,
    private readonly labels: () => LabelInfo[],
  ) {}

  async list(args: {
    filter: RecordFilter;
    sort: RecordSort;
    offset: number;
    limit: number;
  }): Promise<RecordPage> {
    const where = buildWhere(args.filter, '', 'postgres');
    // Unfiltered, the total is the database's running count (pg-migrations.ts 3), not a scan of every row.
    const count = where.sql
      ? positional(`SELECT count(*)::int AS n FROM images ${where.sql}`, where.params)
      : { text: 'SELECT (pending + done + failed)::int AS n FROM image_counts', values: [] };
    // The page's ids first, then their rows: a deep page (offset 50,000) walks the sort's index alone
    // instead of reading 50,000 rows from the table only to skip them.
    const page = positional(
      `SELECT i.* FROM (SELECT id FROM images ${where.sql} ${buildOrder(args.sort)} LIMIT @limit OFFSET @offset) p
       JOIN images i ON i.id = p.id ${buildOrder(args.sort, 'i.')}`,
      {
        ...where.params,
        limit: args.limit,
        offset: args.offset,
      },
    );
    const [total, rows] = await Promise.all([
      this.pool.query<{ n: number }>(count),
      this.pool.query<ImageRow>(page),
    ]);
    return {
      items: rows.rows.map(toSummary),
      total: total.rows[0]!.n,
      offset: args.offset,
      limit: args.limit,
    };
  }

  /** See RecordQueries.visits (SQLite): the same grouping in PostgreSQL's words. */
  async visits(args: { filter: RecordFilter; offset: number; limit: number }): Promise<VisitPage> {
    const where = buildWhere(args.filter, '', 'postgres');
    const and = where.sql ? `${where.sql} AND` : 'WHERE';
    const offsetMs = Math.trunc(args.filter.utcOffsetMinutes ?? 0) * 60_000;
    const dayNumber = `((captured_ms + ${offsetMs}) / 86400000)::int`;
    const one = async (sql: string) =>
      (await this.pool.query<{ n: number }>(positional(sql, where.params))).rows[0]!.n;
    const [total, withoutPatient] = await Promise.all([
      one(`SELECT count(*)::int AS n FROM (SELECT 1 FROM images ${and} patient_id IS NOT NULL
           GROUP BY patient_id, ${dayNumber}) v`),
      one(`SELECT count(*)::int AS n FROM images ${and} patient_id IS NULL`),
    ]);
    const groups = (
      await this.pool.query<{
        patientId: string;
        dayNumber: number;
        n: number;
        first: string;
        last: string;
        unknownEar: number;
      }>(
        positional(
          `SELECT patient_id AS "patientId", ${dayNumber} AS "dayNumber", count(*)::int AS n,
             min(captured_at) AS first, max(captured_at) AS last, max(captured_ms) AS "lastMs",
             (count(*) FILTER (WHERE ear = 'unknown'))::int AS "unknownEar"
           FROM images ${and} patient_id IS NOT NULL GROUP BY patient_id, "dayNumber"
           ORDER BY "lastMs" DESC, patient_id LIMIT @limit OFFSET @offset`,
          { ...where.params, limit: args.limit, offset: args.offset },
        ),
      )
    ).rows;
    const latest = async (patientId: string, ear: Ear, start: number) => {
      const r = await this.pool.query<ImageRow>(
        `SELECT * FROM images WHERE patient_id = $1 AND ear = $2 AND captured_ms >= $3 AND captured_ms < $4
         ORDER BY captured_ms DESC, id DESC LIMIT 1`,
        [patientId, ear, start, start + 86_400_000],
      );
      return r.rows[0] ? toSummary(r.rows[0]) : null;
    };
    const items = await Promise.all(
      groups.map(async (g) => {
        const start = g.dayNumber * 86_400_000 - offsetMs;
        return {
          patientId: g.patientId,
          day: new Date(g.dayNumber * 86_400_000).toISOString().slice(0, 10),
          firstCapturedAt: g.first,
          lastCapturedAt: g.last,
          count: g.n,
          left: await latest(g.patientId, 'left', start),
          right: await latest(g.patientId, 'right', start),
          unknownEar: g.unknownEar,
        };
      }),
    );
    return { items, total, offset: args.offset, limit: args.limit, withoutPatient };
  }

  async countsPerDay(filter: RecordFilter): Promise<CountsPerDay> {
    const where = buildWhere(filter, '', 'postgres');
    const offsetMs = Math.trunc(filter.utcOffsetMinutes ?? 0) * 60_000;
    const q = positional(
      `SELECT ((captured_ms + ${offsetMs}) / 86400000)::int AS "dayNumber",
         CASE WHEN effective_label IS NOT NULL THEN effective_label
              WHEN status <> 'done' THEN status
              ELSE coalesce(gate, 'unknown') END AS bucket,
         count(*)::int AS n
       FROM images ${where.sql} GROUP BY 1, 2 ORDER BY 1`,
      where.params,
    );
    const rows = (await this.pool.query<{ dayNumber: number; bucket: string; n: number }>(q)).rows;
    return countsFromBuckets(rows, this.labels());
  }

  /** One snapshot (REPEATABLE READ) read through a cursor, a batch at a time: the engine keeps writing. */
  async *exportRows(filter: RecordFilter, sort: RecordSort): AsyncGenerator<ExportRow[]> {
    const where = buildWhere(filter, 'i.', 'postgres');
    const q = positional(
      `DECLARE export_rows NO SCROLL CURSOR FOR
       SELECT ${EXPORT_COLUMNS.map((c) => EXPORT_SQL[c]).join(', ')}
       FROM images i
       LEFT JOIN diagnoses d ON d.id = i.diagnosis_id
       LEFT JOIN (SELECT DISTINCT ON (image_id) image_id, note FROM reviews ORDER BY image_id, id DESC) n
         ON n.image_id = i.id
       ${where.sql} ${buildOrder(sort, 'i.')}`,
      where.params,
    );
    // Held between batches while the CSV writer works, when no query is there to hear a server going away.
    const { client: c, release } = await checkOut(this.pool);
    try {
      await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      // Every row is read: plan for all of them (a cursor plans for the first tenth by default), sort in
      // memory rather than in temporary files, and no JIT, whose compiling cost more than it saved here
      // (bench:ingest, 100,000 rows).
      await c.query("SET LOCAL cursor_tuple_fraction = 1; SET LOCAL work_mem = '64MB'; SET LOCAL jit = off");
      await c.query(q);
      const fetch = () => {
        const p = c.query<ExportRow>({ text: `FETCH ${EXPORT_BATCH} FROM export_rows`, rowMode: 'array' });
        // Handled here too: a consumer that stops early leaves the last fetch unawaited.
        p.catch(() => undefined);
        return p;
      };
      // The next batch is asked for before this one is handed on: the server reads it while the CSV
      // writer formats this one, so an export costs about the longer of the two, not their sum.
      let next = fetch();
      for (;;) {
        const r = await next;
        if (r.rows.length === 0) break;
        next = fetch();
        yield r.rows;
      }
      await c.query('COMMIT');
    } finally {
      await c.query('ROLLBACK').catch(() => undefined);
      release();
    }
  }

  async counts(): Promise<{ total: number; done: number; failed: number; pending: number }> {
    const r = await this.pool.query<{ done: number; failed: number; pending: number }>(
      'SELECT done, failed, pending FROM image_counts',
    );
    const { done, failed, pending } = r.rows[0]!;
    return { total: done + failed + pending, done, failed, pending };
  }

  /** A record's detail; `samePhoto`: every record of its photo (itself included). */
  async detail(row: ImageRow, samePhoto: ImageRow[]): Promise<RecordDetail> {
    const d =
      row.diagnosis_id !== null
        ? (await this.pool.query<DiagnosisRow>('SELECT * FROM diagnoses WHERE id = $1', [row.diagnosis_id]))
            .rows[0]
        : undefined;
    const reviews = (
      await this.pool.query<ReviewRow>('SELECT * FROM reviews WHERE image_id = $1 ORDER BY id', [row.id])
    ).rows;
    const edits = await this.pool.query<PatientEditRow>(
      `SELECT field, old_value, new_value, created_at, applied FROM image_edits
       WHERE image_id = $1 AND field IN ('patient_id', 'ear') ORDER BY created_at, id`,
      [row.id],
    );
    return {
      record: toSummary(row),
      image: { sizeBytes: row.size_bytes, width: row.width, height: row.height, format: row.format },
      diagnosis: d ? toDiagnosisView(d) : null,
      reviews: reviews.map(toReview),
      patientEdits: edits.rows.map(toPatientEdit),
      samePhoto: samePhoto
        .filter((r) => r.id !== row.id)
        .map((r) => ({
          id: r.id,
          fileName: r.file_name,
          patientId: r.patient_id,
          ear: r.ear,
          capturedAt: r.captured_at,
        })),
    };
  }
}
