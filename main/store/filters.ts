import type { RecordFilter, RecordSort, SortField } from '../../common/contract.ts';

/** A WHERE clause with its named parameters, built only from validated filter fields (never raw SQL). */
export interface Where {
  sql: string;
  params: Record<string, string | number>;
}

const ZONED = /(?:Z|[+-]\d{2}:?\d{2})$/;

/**
 * Turns a filter date into the stored UTC ISO form. A plain day is the start of that day (or, for the upper
 * bound, the start of the next day) in the caller's UTC offset.
 */
export function boundToUtc(value: string, offsetMinutes: number, upper: boolean): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const ms = Date.parse(`${value}T00:00:00Z`) - offsetMinutes * 60_000 + (upper ? 86_400_000 : 0);
    return new Date(ms).toISOString();
  }
  const normal = value.replace(' ', 'T');
  const ms = ZONED.test(normal) ? Date.parse(normal) : Date.parse(`${normal}Z`) - offsetMinutes * 60_000;
  if (Number.isNaN(ms)) throw new RangeError(`invalid date ${value}`);
  return new Date(ms).toISOString();
}

/** `prefix` qualifies columns (e.g. `i.`) when the query joins other tables. */
export function buildWhere(filter: RecordFilter, prefix = ''): Where {
  const c = (column: string) => `${prefix}${column}`;
  const clauses: string[] = [];
  const params: Record<string, string | number> = {};
  const offset = filter.utcOffsetMinutes ?? 0;
  if (filter.from) {
    clauses.push(`${c('captured_at')} >= @from`);
    params.from = boundToUtc(filter.from, offset, false);
  }
  if (filter.to) {
    clauses.push(`${c('captured_at')} < @to`);
    params.to = boundToUtc(filter.to, offset, true);
  }
  const inList = (column: string, name: string, values: readonly string[] | undefined) => {
    if (!values || values.length === 0) return;
    const keys = values.map((v, i) => {
      params[`${name}${i}`] = v;
      return `@${name}${i}`;
    });
    clauses.push(`${c(column)} IN (${keys.join(', ')})`);
  };
  inList('effective_label', 'label', filter.labels);
  inList('gate', 'gate', filter.gates);
  inList('status', 'status', filter.statuses);
  if (filter.patientId !== undefined) {
    clauses.push(`${c('patient_id')} = @patientId`);
    params.patientId = filter.patientId;
  }
  if (filter.ear) {
    clauses.push(`${c('ear')} = @ear`);
    params.ear = filter.ear;
  }
  if (filter.reviewed !== undefined) clauses.push(`${c('review_count')} ${filter.reviewed ? '> 0' : '= 0'}`);
  if (filter.abnormal !== undefined) {
    clauses.push(`${c('abnormal')} = @abnormal`);
    params.abnormal = filter.abnormal ? 1 : 0;
  }
  const text = filter.text?.trim().toLowerCase();
  if (text) {
    // The trigram index answers LIKE only without ESCAPE, so `%` and `_` typed by the user merely widen the
    // candidates; instr() then keeps exact substring matches.
    clauses.push(
      `${c('id')} IN (SELECT rowid FROM images_fts WHERE search_text LIKE @textLike) AND instr(${c('search_text')}, @text) > 0`,
    );
    params.textLike = `%${text}%`;
    params.text = text;
  }
  return { sql: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

const SORT_COLUMNS: Record<SortField, string> = {
  capturedAt: 'captured_at',
  ingestedAt: 'ingested_at',
  patientId: 'patient_id',
  ear: 'ear',
  effectiveLabel: 'effective_label',
  confidence: 'confidence',
  fileName: 'file_name',
  status: 'status',
};

export function buildOrder(sort: RecordSort, prefix = ''): string {
  const dir = sort.direction === 'asc' ? 'ASC' : 'DESC';
  // id breaks ties so pages never overlap or skip rows.
  return `ORDER BY ${prefix}${SORT_COLUMNS[sort.field]} ${dir}, ${prefix}id ${dir}`;
}
