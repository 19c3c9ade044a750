import { parse } from 'csv-parse/sync';
import { createWriteStream, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSV_COLUMNS, writeCsv } from '../../main/export/csv-export.ts';
import { run as exportCli } from '../../main/cli/export.ts';
import { openDatabase } from '../../main/store/database.ts';
import { SqliteStore } from '../../main/store/sqlite-store.ts';
import { RecordStore } from '../../main/store/records.ts';
import type Database from 'better-sqlite3';
import { en as uiEn, ko as uiKo } from '../../renderer/i18n/resources.ts';
import { FAKE_LABELS } from './helpers/fake-diagnoser.ts';
import { removeDir, tempDir } from './helpers/fs-helpers.ts';

let dir: string;
let db: Database.Database;
let store: RecordStore;

beforeAll(async () => {
  dir = tempDir('csv');
  db = (await openDatabase(path.join(dir, 'eardrum.sqlite'), { backupDir: path.join(dir, 'backups') })).db;
  store = new RecordStore(db);
  store.setLabels(FAKE_LABELS);
  store.registerModel({ id: 'fake-model', version: '1', labels: FAKE_LABELS, details: {} });
  const names = ['plain.jpg', 'comma, "quoted"\nnewline.jpg', '=HYPERLINK("x").jpg', '홍길동_좌.jpg'];
  names.forEach((fileName, i) => {
    const { id } = store.insertImage({
      sha256: String(i).padStart(64, 'a'),
      fileName,
      originalPath: `/in/${fileName}`,
      source: 'watch',
      storedPath: null,
      thumbPath: null,
      sizeBytes: 10,
      width: 1,
      height: 1,
      format: 'jpeg',
      capturedAt: `2026-11-0${i + 1}T10:00:00.000Z`,
      captureSource: 'mtime',
      patientId: i === 3 ? '홍길동' : `P${i}`,
      ear: 'left',
      patientSource: 'pattern',
    });
    store.commitDiagnosis(
      id,
      {
        gate: 'eardrum',
        eardrumProbability: 0.97,
        label: 'aom',
        probabilities: { normal: 0.1, aom: 0.7, effusion: 0.2 },
        // The second photo is one the model is not sure of; the others it is.
        decision: i === 1 ? 'not_sure' : 'confident',
        notSureReasons: i === 1 ? ['low_confidence', 'unfamiliar'] : [],
        unfamiliarity: i === 1 ? 1.5 : 0.1,
        heatmap: null,
        image: { width: 1, height: 1, format: 'jpeg' },
        timings: { decodeMs: 1, inferenceMs: 1, totalMs: 2 },
        model: { id: 'fake-model', version: '1', backend: 'cpu' },
      },
      null,
    );
  });
  store.addReview({
    recordId: 4,
    action: 'override',
    label: 'effusion',
    note: '삼출액 보임, "확실"',
    reviewer: '김의사',
  });
});

afterAll(() => {
  db.close();
  removeDir(dir);
});

async function exportTo(file: string, args: Parameters<typeof writeCsv>[2]) {
  const n = await writeCsv(new SqliteStore(db, null, store), createWriteStream(file), args);
  return { n, bytes: readFileSync(file) };
}

describe('CSV export', () => {
  it('writes RFC 4180 CSV in UTF-8 with a BOM, CRLF rows, quoting and every documented column', async () => {
    const { n, bytes } = await exportTo(path.join(dir, 'all.csv'), {
      filter: {},
      sort: { field: 'capturedAt', direction: 'asc' },
      language: 'en',
    });
    expect(n).toBe(4);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = bytes.toString('utf8');
    expect(text.endsWith('\r\n')).toBe(true);
    const rows = parse(text, { bom: true, columns: true, record_delimiter: '\r\n' }) as Record<
      string,
      string
    >[];
    expect(Object.keys(rows[0]!)).toEqual([
      ...CSV_COLUMNS.map((c) => c.en),
      'p_normal',
      'p_aom',
      'p_effusion',
    ]);
    expect(rows.map((r) => r.file_name)).toEqual([
      'plain.jpg',
      'comma, "quoted"\nnewline.jpg',
      `'=HYPERLINK("x").jpg`,
      '홍길동_좌.jpg',
    ]);
    const reviewed = rows[3]!;
    expect(reviewed).toMatchObject({
      patient_id: '홍길동',
      model_label: 'aom',
      model_label_name: 'Acute otitis media',
      reviewed_label: 'effusion',
      reviewed_by: '김의사',
      review_note: '삼출액 보임, "확실"',
      final_label: 'effusion',
      abnormal: 'yes',
      p_aom: '0.7000',
    });
    expect(rows[0]).toMatchObject({
      reviewed_label: '',
      final_label: 'aom',
      model_confidence: '0.7000',
      model_decision: 'confident',
      not_sure_reasons: '',
    });
    expect(rows[1]).toMatchObject({
      model_label: 'aom',
      model_decision: 'not_sure',
      not_sure_reasons: 'low_confidence; unfamiliar',
    });
  });

  it('applies the board filters and writes Korean headers when asked', async () => {
    const { n, bytes } = await exportTo(path.join(dir, 'ko.csv'), {
      filter: { reviewed: true },
      sort: { field: 'capturedAt', direction: 'asc' },
      language: 'ko',
    });
    expect(n).toBe(1);
    const rows = parse(bytes, { bom: true, columns: true }) as Record<string, string>[];
    expect(rows[0]).toMatchObject({
      환자번호: '홍길동',
      모델판독명: '급성 중이염',
      검토판독명: '삼출성 중이염 / 중이 삼출액',
      귀: '좌측',
      상태: '분석 완료',
      판정가능여부: '고막',
      이상소견: '예',
    });
  });

  it('exports only the not-sure results when the board filters on them, worded in Korean', async () => {
    const { n, bytes } = await exportTo(path.join(dir, 'not-sure-ko.csv'), {
      filter: { decision: 'not_sure' },
      sort: { field: 'capturedAt', direction: 'asc' },
      language: 'ko',
    });
    expect(n).toBe(1);
    const rows = parse(bytes, { bom: true, columns: true }) as Record<string, string>[];
    expect(rows[0]).toMatchObject({
      파일명: 'comma, "quoted"\nnewline.jpg',
      모델확신여부: uiKo.decision.not_sure,
      불확실사유: `${uiKo.decision.reasons.low_confidence}; ${uiKo.decision.reasons.unfamiliar}`,
    });
    expect(rows[0]!.모델확신여부).toBe('확실하지 않음, 의료진 확인 필요');
  });

  it('quotes every text cell and neutralises formulas however a spreadsheet splits the cells', async () => {
    // Hostile text where users and file names put it: review notes, reviewer, patient id, file name.
    const hostile = [
      'see;=1+1',
      'a;=HYPERLINK("http://evil.example","x")',
      ' =1+1',
      '\t=cmd|x',
      'x,@SUM(A1)',
      'line\n+1',
      'q;"-2+3',
      '\uFF1D1+1',
    ];
    const ids = hostile.map((text, i) => {
      const { id } = store.insertImage({
        sha256: String(i).padStart(64, 'f'),
        fileName: `${text}.jpg`,
        originalPath: `/in/${text}.jpg`,
        source: 'watch',
        storedPath: null,
        thumbPath: null,
        sizeBytes: 10,
        width: 1,
        height: 1,
        format: 'jpeg',
        capturedAt: `2026-10-0${i + 1}T10:00:00.000Z`,
        captureSource: 'mtime',
        patientId: null,
        ear: 'right',
        patientSource: 'none',
        failure: { code: 'image.corrupt', message: text },
      });
      return id;
    });
    const file = path.join(dir, 'hostile.csv');
    const { bytes } = await exportTo(file, {
      filter: { to: '2026-10-31' },
      sort: { field: 'capturedAt', direction: 'asc' },
      language: 'en',
    });
    expect(ids).toHaveLength(hostile.length);
    const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
    const formula = /^[=+\-@\uFF1D\uFF0B\uFF0D\uFF20]/;
    const bad = (cells: string[]) =>
      cells
        .map((c) =>
          c
            .trim()
            .replace(/^["'\s]*(?=["])/, '')
            .replace(/^"+/, '')
            .trim(),
        )
        .filter((c) => formula.test(c));
    // A reader that honours quotes, with either separator.
    for (const delimiter of [',', ';']) {
      const rows = parse(text, { delimiter, relax_quotes: true, relax_column_count: true }) as string[][];
      expect(rows.length).toBeGreaterThan(hostile.length);
      expect(bad(rows.flat()), `delimiter ${delimiter}`).toEqual([]);
    }
    // A reader that ignores quotes altogether and splits every line on the separator.
    for (const delimiter of [',', ';', '\t', '|']) {
      expect(bad(text.split(/\r?\n|\r/).flatMap((l) => l.split(delimiter))), `naive ${delimiter}`).toEqual(
        [],
      );
    }
    // Every text cell is quoted: each data line's file_name cell starts with a quote.
    const rows = parse(text, { columns: true }) as Record<string, string>[];
    const byNote = rows.filter((r) => r.status === 'failed');
    expect(byNote.map((r) => r.failure_reason)).toEqual([
      "see;'=1+1",
      `a;'=HYPERLINK("http://evil.example","x")`,
      " '=1+1",
      "\t'=cmd|x",
      "x,'@SUM(A1)",
      "line\n'+1",
      `q;"'-2+3`,
      "'\uFF1D1+1",
    ]);
    for (const line of text.split('\r\n').filter(Boolean))
      expect(line.startsWith('"'), line.slice(0, 40)).toBe(true);
  });

  it('names labels with exactly the words the screen uses, in either language', async () => {
    for (const [language, ui] of [
      ['en', uiEn],
      ['ko', uiKo],
    ] as const) {
      const { bytes } = await exportTo(path.join(dir, `names-${language}.csv`), {
        filter: {},
        sort: { field: 'capturedAt', direction: 'asc' },
        language,
      });
      const rows = parse(bytes, { bom: true }) as string[][];
      const header = rows[0]!;
      const col = (key: string) => header.indexOf(CSV_COLUMNS.find((c) => c.key === key)![language]);
      for (const row of rows.slice(1)) {
        for (const [id, name] of [
          [col('model_label'), col('model_label_name')],
          [col('reviewed_label'), col('reviewed_label_name')],
        ] as const) {
          if (row[id]) expect(row[name]).toBe(ui.labels[row[id] as keyof typeof ui.labels]);
        }
      }
      // The card calls it "Otitis media with effusion"; the export says what the screen says.
      expect(rows.some((r) => r[col('reviewed_label_name')] === ui.labels.effusion)).toBe(true);
    }
  });

  it('runs as `eardrum export` against a database file, writing atomically', async () => {
    const out = path.join(dir, 'cli.csv');
    const code = await exportCli(['--db', path.join(dir, 'eardrum.sqlite'), '--out', out, '--patient', 'P1']);
    expect(code).toBe(0);
    const rows = parse(readFileSync(out), { bom: true, columns: true }) as Record<string, string>[];
    expect(rows.map((r) => r.patient_id)).toEqual(['P1']);
    expect(
      await exportCli(['--db', path.join(dir, 'eardrum.sqlite'), '--out', out, '--decision', 'not_sure']),
    ).toBe(0);
    const unsure = parse(readFileSync(out), { bom: true, columns: true }) as Record<string, string>[];
    expect(unsure.map((r) => [r.patient_id, r.model_decision])).toEqual([['P1', 'not_sure']]);
    expect(
      await exportCli(['--db', path.join(dir, 'eardrum.sqlite'), '--out', out, '--decision', 'maybe']),
    ).toBe(1);
    expect(await exportCli(['--db', path.join(dir, 'none.sqlite'), '--out', out])).toBe(1);
    expect(await exportCli(['--db', path.join(dir, 'eardrum.sqlite'), '--out', out, '--ear', 'middle'])).toBe(
      1,
    );
    expect(await exportCli(['--bogus'])).toBe(2);
    expect(
      await exportCli([
        '--db',
        path.join(dir, 'eardrum.sqlite'),
        '--out',
        path.join(dir, 'no', 'such', 'x.csv'),
      ]),
    ).toBe(1);
  });
});
