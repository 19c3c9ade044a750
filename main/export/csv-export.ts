import { stringify } from 'csv-stringify';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { Language, LabelInfo, RecordFilter, RecordSort } from '../../common/contract.ts';
import { EXPORT_INDEX, type ExportRow, type RecordStore } from '../store/records.ts';

/**
 * CSV columns, in order. Documented in the README; ids are language-neutral (`normal`, `aom`...), with the
 * label names in English and Korean beside them so a spreadsheet reads well in either language.
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

/** Cells a spreadsheet would run as a formula get a leading apostrophe (CSV injection). */
function safeText(v: string | null | undefined): string {
  if (v === null || v === undefined) return '';
  return /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
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
  store: RecordStore,
  out: Writable,
  args: { filter: RecordFilter; sort: RecordSort; language: Language },
): Promise<number> {
  const labels = store.getLabels();
  const byId = new Map<string, LabelInfo>(labels.map((l) => [l.id, l]));
  const lang = args.language;
  const labelName = (id: string | null) => {
    if (!id) return '';
    const l = byId.get(id);
    return l ? l[lang] : id;
  };
  const probColumns = labels.map((l) => ({ key: `p_${l.id}`, header: `p_${l.id}` }));
  const header = [...CSV_COLUMNS.map((c) => c[lang]), ...probColumns.map((c) => c.header)];
  const csv = stringify({ bom: true, record_delimiter: 'windows' });
  csv.pipe(out);
  const done = new Promise<void>((resolve, reject) => {
    out.once('finish', resolve);
    out.once('close', resolve);
    out.once('error', reject);
    csv.once('error', reject);
  });
  if (!csv.write(header)) await once(csv, 'drain');
  let n = 0;
  for (const r of store.exportRows(args.filter, args.sort)) {
    if (!csv.write(toCells(r, labelName, probColumns))) await once(csv, 'drain');
    // Let other work (watcher events, HTTP) run now and then.
    if (++n % CHUNK === 0) await new Promise((r) => setImmediate(r));
  }
  csv.end();
  await done;
  return n;
}

function toCells(
  r: ExportRow,
  labelName: (id: string | null) => string,
  probColumns: { key: string }[],
): string[] {
  const I = EXPORT_INDEX;
  const str = (i: number) => (r[i] === null ? '' : String(r[i]));
  const text = (i: number) => safeText(r[i] as string | null);
  const label = (i: number) => labelName(r[i] as string | null);
  const probsJson = r[I.probabilities] as string | null;
  const probs = probsJson ? (JSON.parse(probsJson) as Record<string, number>) : {};
  const abnormal = r[I.abnormal];
  return [
    str(I.id),
    str(I.captured_at),
    str(I.ingested_at),
    text(I.patient_id),
    str(I.ear),
    text(I.file_name),
    text(I.original_path),
    str(I.sha256),
    str(I.status),
    text(I.failure_message),
    str(I.gate),
    str(I.gate_reason),
    num(r[I.eardrum_probability] as number | null),
    str(I.model_label),
    label(I.model_label),
    num(r[I.confidence] as number | null),
    str(I.reviewed_label),
    label(I.reviewed_label),
    text(I.last_reviewer),
    str(I.last_reviewed_at),
    text(I.review_note),
    str(I.effective_label),
    abnormal === null ? '' : abnormal ? 'yes' : 'no',
    str(I.model_id),
    str(I.model_version),
    ...probColumns.map((c) => num(probs[c.key.slice(2)])),
  ];
}
