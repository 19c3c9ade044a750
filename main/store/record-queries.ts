import Database from 'better-sqlite3';
import type {
  CountsPerDay,
  Ear,
  LabelInfo,
  RecordFilter,
  RecordPage,
  RecordSort,
  VisitPage,
} from '../../common/contract.ts';
import { buildOrder, buildWhere } from './filters.ts';
import {
  EXPORT_COLUMNS,
  EXPORT_SQL,
  toSummary,
  type ExportRow,
  type ImageRow,
  type ReviewedPhoto,
} from './record-rows.ts';

/** The board's queries on the SQLite history: pages, visits, counts per day, CSV rows, totals by status. */
export class RecordQueries {
  constructor(
    private readonly db: Database.Database,
    private readonly labels: () => LabelInfo[],
  ) {}

  /**
   * Every reviewed image with a stored copy and the label of its latest review (a confirm recorded the model's
   * label, an override the clinician's): what "Learn from reviewed photos" learns from. `gate` and `modelLabel`
   * are what the model answered when the photo came in (the "before" of the comparison).
   */
  reviewedPhotos(): ReviewedPhoto[] {
    return this.db
      .prepare(
        `SELECT id, stored_path AS storedPath, file_name AS fileName, reviewed_label AS label,
                gate, model_label AS modelLabel FROM images
         WHERE review_count > 0 AND reviewed_label IS NOT NULL AND stored_path IS NOT NULL ORDER BY id`,
      )
      .all() as ReviewedPhoto[];
  }

  /** Labels of the most recently registered model (for tools that run without the model, like export). */
  latestModelLabels(): LabelInfo[] {
    const row = this.db
      .prepare('SELECT labels FROM models ORDER BY registered_at DESC, rowid DESC LIMIT 1')
      .get() as { labels: string } | undefined;
    return row ? (JSON.parse(row.labels) as LabelInfo[]) : [];
  }

  list(args: { filter: RecordFilter; sort: RecordSort; offset: number; limit: number }): RecordPage {
    const where = buildWhere(args.filter);
    const total = (
      this.db.prepare(`SELECT count(*) AS n FROM images ${where.sql}`).get(where.params) as { n: number }
    ).n;
    const rows = this.db
      .prepare(`SELECT * FROM images ${where.sql} ${buildOrder(args.sort)} LIMIT @limit OFFSET @offset`)
      .all({ ...where.params, limit: args.limit, offset: args.offset }) as ImageRow[];
    return { items: rows.map(toSummary), total, offset: args.offset, limit: args.limit };
  }

  /**
   * The board grouped by visit: one patient's records of one calendar day (in the filter's UTC offset), newest
   * first, each with the latest photo of either ear that day. A visit matches when any of its records does.
   */
  visits(args: { filter: RecordFilter; offset: number; limit: number }): VisitPage {
    const where = buildWhere(args.filter);
    const withPatient = `${where.sql ? `${where.sql} AND` : 'WHERE'} patient_id IS NOT NULL`;
    // A validated integer, inlined like countsPerDay's.
    const offsetMs = Math.trunc(args.filter.utcOffsetMinutes ?? 0) * 60_000;
    const dayNumber = `(captured_ms + ${offsetMs}) / 86400000`;
    const total = (
      this.db
        .prepare(
          `SELECT count(*) AS n FROM (SELECT 1 FROM images ${withPatient} GROUP BY patient_id, ${dayNumber})`,
        )
        .get(where.params) as { n: number }
    ).n;
    const withoutPatient = (
      this.db
        .prepare(
          `SELECT count(*) AS n FROM images ${where.sql ? `${where.sql} AND` : 'WHERE'} patient_id IS NULL`,
        )
        .get(where.params) as { n: number }
    ).n;
    const groups = this.db
      .prepare(
        `SELECT patient_id AS patientId, ${dayNumber} AS dayNumber, count(*) AS n, min(captured_at) AS first,
           max(captured_at) AS last, max(captured_ms) AS lastMs, sum(ear = 'unknown') AS unknownEar
         FROM images ${withPatient} GROUP BY patient_id, dayNumber
         ORDER BY lastMs DESC, patient_id LIMIT @limit OFFSET @offset`,
      )
      .all({ ...where.params, limit: args.limit, offset: args.offset }) as {
      patientId: string;
      dayNumber: number;
      n: number;
      first: string;
      last: string;
      unknownEar: number;
    }[];
    const latest = this.db.prepare<[string, string, number, number], ImageRow>(
      `SELECT * FROM images WHERE patient_id = ? AND ear = ? AND captured_ms >= ? AND captured_ms < ?
       ORDER BY captured_ms DESC, id DESC LIMIT 1`,
    );
    const items = groups.map((g) => {
      const start = g.dayNumber * 86_400_000 - offsetMs;
      const ear = (side: Ear) => {
        const row = latest.get(g.patientId, side, start, start + 86_400_000);
        return row ? toSummary(row) : null;
      };
      return {
        patientId: g.patientId,
        day: new Date(g.dayNumber * 86_400_000).toISOString().slice(0, 10),
        firstCapturedAt: g.first,
        lastCapturedAt: g.last,
        count: g.n,
        left: ear('left'),
        right: ear('right'),
        unknownEar: g.unknownEar,
      };
    });
    return { items, total, offset: args.offset, limit: args.limit, withoutPatient };
  }

  countsPerDay(filter: RecordFilter): CountsPerDay {
    const where = buildWhere(filter);
    // A validated integer, inlined: as a bound parameter SQLite evaluates the day expression far more slowly.
    const offsetMs = Math.trunc(filter.utcOffsetMinutes ?? 0) * 60_000;
    const raw = this.db
      .prepare(
        `SELECT (captured_ms + ${offsetMs}) / 86400000 AS dayNumber,
           CASE WHEN effective_label IS NOT NULL THEN effective_label
                WHEN status <> 'done' THEN status
                ELSE coalesce(gate, 'unknown') END AS bucket,
           count(*) AS n
         FROM images ${where.sql} GROUP BY 1, 2 ORDER BY 1`,
      )
      .all(where.params) as { dayNumber: number; bucket: string; n: number }[];
    return countsFromBuckets(raw, this.labels());
  }

  /**
   * Every matching record in board order with its diagnosis and latest review note, as arrays in the order of
   * EXPORT_COLUMNS, read through a separate read-only connection: it sees one consistent snapshot (WAL) and,
   * being separate, can stay open across awaits while this connection keeps writing new results.
   */
  *exportRows(filter: RecordFilter, sort: RecordSort): Generator<ExportRow> {
    const reader = new Database(this.db.name, { readonly: true, fileMustExist: true });
    try {
      const where = buildWhere(filter, 'i.');
      // Listed columns (not i.*), the latest note joined once rather than looked up per row, and raw arrays
      // rather than an object per row: together about a third of the naive query's time on 100,000 rows.
      const stmt = reader.prepare(
        `SELECT ${EXPORT_COLUMNS.map((c) => EXPORT_SQL[c]).join(', ')}
         FROM images i
         LEFT JOIN diagnoses d ON d.id = i.diagnosis_id
         LEFT JOIN (SELECT image_id, note, max(id) FROM reviews GROUP BY image_id) n ON n.image_id = i.id
         ${where.sql} ${buildOrder(sort, 'i.')}`,
      );
      yield* stmt.raw().iterate(where.params) as IterableIterator<ExportRow>;
    } finally {
      reader.close();
    }
  }

  counts(): { total: number; done: number; failed: number; pending: number } {
    const rows = this.db.prepare('SELECT status, count(*) AS n FROM images GROUP BY status').all() as {
      status: string;
      n: number;
    }[];
    const c = { total: 0, done: 0, failed: 0, pending: 0 };
    for (const r of rows) {
      c.total += r.n;
      if (r.status === 'done' || r.status === 'failed' || r.status === 'pending') c[r.status] = r.n;
    }
    return c;
  }
}

/** Day-number buckets (days since 1970 in the caller's offset) as the chart's days and keys in label order. */
export function countsFromBuckets(
  raw: { dayNumber: number; bucket: string; n: number }[],
  labels: LabelInfo[],
): CountsPerDay {
  const days = new Map<string, { day: string; counts: Record<string, number>; total: number }>();
  const seen = new Set<string>();
  for (const r of raw) {
    const day = new Date(r.dayNumber * 86_400_000).toISOString().slice(0, 10);
    let d = days.get(day);
    if (!d) days.set(day, (d = { day, counts: {}, total: 0 }));
    d.counts[r.bucket] = r.n;
    d.total += r.n;
    seen.add(r.bucket);
  }
  const order = [...labels.map((l) => l.id), 'not_eardrum', 'ungradable', 'pending', 'failed'];
  const keys = [...order.filter((k) => seen.has(k)), ...[...seen].filter((k) => !order.includes(k)).sort()];
  return { keys, days: [...days.values()] };
}
