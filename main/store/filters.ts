import type { RecordFilter, RecordSort, SortField } from '../../common/contract.ts';
import { ErrorCodes } from '../../common/contract.ts';
import { EngineError } from '../util/errors.ts';

/** A WHERE clause with its named parameters, built only from validated filter fields (never raw SQL). */
export interface Where {
  sql: string;
  params: Record<string, string | number>;
}

const ZONED = /(?:Z|[+-]\d{2}:?\d{2})$/;
/** Stored times are ISO strings with four-digit years, which sort as text only up to the end of 9999. */
const LAST_MS = Date.parse('9999-12-31T23:59:59.999Z');

/**
 * Turns a filter date into the stored UTC ISO form. A plain day is the start of that day (or, for the upper
 * bound, the start of the next day) in the caller's UTC offset. Null: the bound lies after year 9999, past
 * every stored time (an upper bound there limits nothing; a lower bound there matches nothing).
 */
export function boundToUtc(value: string, offsetMinutes: number, upper: boolean): string | null {
  let ms: number;
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    ms = Date.parse(`${value}T00:00:00Z`) - offsetMinutes * 60_000 + (upper ? 86_400_000 : 0);
  } else {
    const normal = value.replace(' ', 'T');
    ms = ZONED.test(normal) ? Date.parse(normal) : Date.parse(`${normal}Z`) - offsetMinutes * 60_000;
  }
  // The contract lets only real dates through; this guards callers that skip it (a 500 is never the answer).
  if (Number.isNaN(ms)) throw new EngineError(ErrorCodes.invalidArgs, `"${value}" is not a date.`);
  return ms > LAST_MS ? null : new Date(ms).toISOString();
}

/** `prefix` qualifies columns (e.g. `i.`) when the query joins other tables; `@name` parameters. */
export function buildWhere(
  filter: RecordFilter,
  prefix = '',
  dialect: 'sqlite' | 'postgres' = 'sqlite',
): Where {
  const c = (column: string) => `${prefix}${column}`;
  const clauses: string[] = [];
  const params: Record<string, string | number> = {};
  const offset = filter.utcOffsetMinutes ?? 0;
  if (filter.from) {
    const from = boundToUtc(filter.from, offset, false);
    if (from === null) clauses.push('1 = 0');
    else {
      clauses.push(`${c('captured_at')} >= @from`);
      params.from = from;
    }
  }
  if (filter.to) {
    const to = boundToUtc(filter.to, offset, true);
    if (to !== null) {
      clauses.push(`${c('captured_at')} < @to`);
      params.to = to;
    }
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
  if (filter.decision) {
    clauses.push(`${c('decision')} = @decision`);
    params.decision = filter.decision;
  }
  const text = filter.text?.trim().toLowerCase();
  if (text && dialect === 'postgres') {
    // pg_trgm's index answers LIKE with escapes: what the user typed is matched literally.
    clauses.push(`${c('search_text')} LIKE @textLike`);
    params.textLike = `%${text.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
  } else if (text) {
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
