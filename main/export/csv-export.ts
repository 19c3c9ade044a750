import { stringify } from 'csv-stringify';
import { once } from 'node:events';
import { Transform, type TransformCallback, type Writable } from 'node:stream';
import type { Language, LabelInfo, RecordFilter, RecordSort } from '../../common/contract.ts';
import { TERMS, termFor, termForLabel } from '../../common/terms.ts';
import { EXPORT_INDEX, type ExportRow } from '../store/record-rows.ts';
import type { Store } from '../store/store.ts';

/**
 * CSV columns, in order. Documented in the README; label ids are language-neutral (`normal`, `aom`...), with
 * the label names beside them in the export's language, the same words as the screen (common/terms.ts).
 * A Korean export also words ear, status, gate, gate reason, decision, not-sure reasons and abnormal in Korean.
 * Not-sure reasons are separated by `; `; results recorded before the model had a decision leave it empty.
 */
export const CSV_COLUMNS: { key: string; en: string; ko: string }[] = [
  { key: 'record_id', en: 'record_id', ko: '기록번호' },
  { key: 'captured_at', en: 'captured_at', ko: '촬영시각' },
  { key: 'ingested_at', en: 'ingested_at', ko: '등록시각' },
  { key: 'patient_id', en: 'patient_id', ko: '환자번호' },
  { key: 'ear', en: 'ear', ko: '귀' },
  { key: 'file_name', en: 'file_name', ko: '파일명' },
  { key: 'original_path', en: 'original_path', ko: '원본경로' },
  { key: 'sha256', en: 'sha256', ko: 'sha256' },
  { key: 'status', en: 'status', ko: '상태' },
  { key: 'failure_reason', en: 'failure_reason', ko: '실패사유' },
  { key: 'gate', en: 'gate', ko: '판정가능여부' },
  { key: 'gate_reason', en: 'gate_reason', ko: '판정불가사유' },
  { key: 'eardrum_probability', en: 'eardrum_probability', ko: '고막확률' },
  { key: 'model_label', en: 'model_label', ko: '모델판독' },
  { key: 'model_label_name', en: 'model_label_name', ko: '모델판독명' },
  { key: 'model_confidence', en: 'model_confidence', ko: '모델신뢰도' },
  { key: 'model_decision', en: 'model_decision', ko: '모델확신여부' },
  { key: 'not_sure_reasons', en: 'not_sure_reasons', ko: '불확실사유' },
  { key: 'reviewed_label', en: 'reviewed_label', ko: '검토판독' },
  { key: 'reviewed_label_name', en: 'reviewed_label_name', ko: '검토판독명' },
  { key: 'reviewed_by', en: 'reviewed_by', ko: '검토자' },
  { key: 'reviewed_at', en: 'reviewed_at', ko: '검토시각' },
  { key: 'review_note', en: 'review_note', ko: '검토메모' },
  { key: 'final_label', en: 'final_label', ko: '최종판독' },
  { key: 'abnormal', en: 'abnormal', ko: '이상소견' },
  { key: 'model_id', en: 'model_id', ko: '모델' },
  { key: 'model_version', en: 'model_version', ko: '모델버전' },
];

const CHUNK = 2000;

/** Characters that make a spreadsheet cell a formula (ASCII and the full-width forms some locales accept). */
const FORMULA_START = '=+\\-@\uFF1D\uFF0B\uFF0D\uFF20';
const MAY_HOLD_FORMULA = new RegExp(`[${FORMULA_START}]`);
/**
 * A formula character at the start of the cell or after anything a spreadsheet might split cells on (`,` `;`
 * tab `|` or a line break), with only blanks or quotes between. A spreadsheet told to split on `;` cuts
 * `see;=1+1` into `see` and `=1+1`, and one that trims blanks turns ` =1+1` into a formula.
 */
const FORMULA_AT_CELL_START = new RegExp(`(^|[,;\\t|\\r\\n])([\\s"']*)([${FORMULA_START}])`, 'g');

/**
 * Neutralises spreadsheet formulas in a text cell (CSV injection): an apostrophe goes right before each
 * formula character that could begin a cell, whatever the separator the spreadsheet splits on, and whether
 * or not it trims blanks. Every text cell is also quoted by the stringifier.
 */
export function safeText(v: string | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (!MAY_HOLD_FORMULA.test(v)) return v;
  return v.replace(FORMULA_AT_CELL_START, "$1$2'$3");
}

function num(v: number | null | undefined, digits = 4): string {
  return v === null || v === undefined ? '' : v.toFixed(digits);
}

/**
 * Streams every record matching the filter as RFC 4180 CSV (CRLF, quotes where needed) in UTF-8 with a BOM so
 * Excel shows Korean correctly. Rows are read in chunks from a snapshot of matching ids, so the event loop
 * and the engine keep running during a large export. Returns the number of data rows written.
 */
export async function writeCsv(
  store: Pick<Store, 'getLabels' | 'exportRows'>,
  out: Writable,
  args: { filter: RecordFilter; sort: RecordSort; language: Language },
): Promise<number> {
  const labels = store.getLabels();
  const byId = new Map<string, LabelInfo>(labels.map((l) => [l.id, l]));
  const lang = args.language;
  const labelName = (id: string | null) => (id ? termForLabel(lang, id, byId.get(id)?.[lang]) : '');
  const words: Words =
    lang === 'ko'
      ? {
          ear: (v) => termFor('ko', 'ear', v),
          status: (v) => termFor('ko', 'status', v),
          gate: (v) => termFor('ko', 'gate', v),
          gateReason: (v) => termFor('ko', 'gateReason', v),
          decision: (v) => termFor('ko', 'decision', v),
          notSureReason: (v) => termFor('ko', 'notSureReason', v),
          yes: TERMS.ko.yes,
          no: TERMS.ko.no,
        }
      : {
          ear: same,
          status: same,
          gate: same,
          gateReason: same,
          decision: same,
          notSureReason: same,
          yes: TERMS.en.yes,
          no: TERMS.en.no,
        };
  const probColumns = labels.map((l) => ({ key: `p_${l.id}`, header: `p_${l.id}` }));
  const header = [...CSV_COLUMNS.map((c) => c[lang]), ...probColumns.map((c) => safeText(c.header))];
  // Every non-empty cell quoted: a separator inside a cell then never starts a new one in any RFC 4180 reader.
  const csv = stringify({ bom: true, record_delimiter: 'windows', quoted: true });
  csv.pipe(new Coalesce()).pipe(out);
  const done = new Promise<void>((resolve, reject) => {
    out.once('finish', resolve);
    out.once('close', resolve);
    out.once('error', reject);
    csv.once('error', reject);
  });
  if (!csv.write(header)) await once(csv, 'drain');
  let n = 0;
  for await (const batch of store.exportRows(args.filter, args.sort)) {
    for (const r of batch) {
      if (!csv.write(toCells(r, labelName, words, probColumns))) await once(csv, 'drain');
      // Let other work (watcher events, HTTP) run now and then.
      if (++n % CHUNK === 0) await new Promise((r) => setImmediate(r));
    }
  }
  csv.end();
  await done;
  return n;
}

/** Joins the stringifier's one-record chunks into ~256 KB writes (a third of the export's time otherwise). */
class Coalesce extends Transform {
  private parts: Buffer[] = [];
  private size = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.parts.push(chunk);
    this.size += chunk.length;
    if (this.size >= 256 * 1024) this.flushParts();
    done();
  }
  override _flush(done: TransformCallback): void {
    this.flushParts();
    done();
  }
  private flushParts(): void {
    if (this.size === 0) return;
    this.push(Buffer.concat(this.parts, this.size));
    this.parts = [];
    this.size = 0;
  }
}

/** How coded values are worded: ids as they are in English, words in Korean. */
interface Words {
  ear(v: string): string;
  status(v: string): string;
  gate(v: string): string;
  gateReason(v: string): string;
  decision(v: string): string;
  notSureReason(v: string): string;
  yes: string;
  no: string;
}
const same = (v: string) => v;

const cell = (r: ExportRow, i: number) => (r[i] === null ? '' : String(r[i]));
const worded = (r: ExportRow, i: number, word: (v: string) => string) =>
  r[i] === null ? '' : word(String(r[i]));
const textCell = (r: ExportRow, i: number) => safeText(r[i] as string | null);

function toCells(
  r: ExportRow,
  labelName: (id: string | null) => string,
  words: Words,
  probColumns: { key: string }[],
): string[] {
  const I = EXPORT_INDEX;
  const probsJson = r[I.probabilities] as string | null;
  const probs = probsJson ? (JSON.parse(probsJson) as Record<string, number>) : {};
  const abnormal = r[I.abnormal];
  const reasonsJson = r[I.not_sure_reasons] as string | null;
  const reasons = reasonsJson ? (JSON.parse(reasonsJson) as string[]) : [];
  const cells = [
    cell(r, I.id),
    cell(r, I.captured_at),
    cell(r, I.ingested_at),
    textCell(r, I.patient_id),
    worded(r, I.ear, words.ear),
    textCell(r, I.file_name),
    textCell(r, I.original_path),
    cell(r, I.sha256),
    worded(r, I.status, words.status),
    textCell(r, I.failure_message),
    safeText(worded(r, I.gate, words.gate)),
    safeText(worded(r, I.gate_reason, words.gateReason)),
    num(r[I.eardrum_probability] as number | null),
    textCell(r, I.model_label),
    safeText(labelName(r[I.model_label] as string | null)),
    num(r[I.confidence] as number | null),
    worded(r, I.decision, words.decision),
    reasons.map(words.notSureReason).join('; '),
    textCell(r, I.reviewed_label),
    safeText(labelName(r[I.reviewed_label] as string | null)),
    textCell(r, I.last_reviewer),
    cell(r, I.last_reviewed_at),
    textCell(r, I.review_note),
    textCell(r, I.effective_label),
    abnormal === null ? '' : abnormal ? words.yes : words.no,
    textCell(r, I.model_id),
    textCell(r, I.model_version),
  ];
  for (const c of probColumns) cells.push(num(probs[c.key.slice(2)]));
  return cells;
}
