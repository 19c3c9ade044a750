import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import sharp from 'sharp';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RecordDetail, RecordSummary } from '../../common/contract.ts';
import { exportCsvToFile } from '../../main/api/handlers.ts';
import { consoleLogger } from '../../main/util/logger.ts';
import { syntheticJpeg, waitFor } from './helpers/fs-helpers.ts';
import { startHarness, type Harness } from './helpers/harness.ts';

let h: Harness | null = null;
afterEach(async () => {
  vi.restoreAllMocks();
  await h?.close();
  h = null;
});

const all = (x: Harness): RecordSummary[] =>
  x.records.list({ filter: {}, sort: { field: 'fileName', direction: 'asc' }, offset: 0, limit: 100 }).items;
const byName = (x: Harness) => Object.fromEntries(all(x).map((r) => [r.fileName, r]));

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => e.name);
}

describe('one photo, several sources', () => {
  it('keeps the same photo saved for two patients as two records on the board, with one diagnosis', async () => {
    h = await startHarness();
    const bytes = await syntheticJpeg(501);
    writeFileSync(path.join(h.watchDir, 'A_L.jpg'), bytes);
    await h.settled(1);
    writeFileSync(path.join(h.watchDir, 'B_R.jpg'), bytes);
    await waitFor(() => h!.records.counts().total === 2);
    await h.settled(2);
    const r = byName(h);
    expect(r['A_L.jpg']).toMatchObject({ patientId: 'A', ear: 'left', status: 'done' });
    expect(r['B_R.jpg']).toMatchObject({ patientId: 'B', ear: 'right', status: 'done' });
    expect(r['B_R.jpg']!.modelLabel).toBe(r['A_L.jpg']!.modelLabel);
    expect(r['B_R.jpg']!.sha256).toBe(r['A_L.jpg']!.sha256);
    expect(h.services.db!.prepare('SELECT count(*) FROM diagnoses').pluck().get()).toBe(1);
    // Stored once: one original and one thumbnail in the library.
    expect(filesUnder(path.join(h.dataDir, 'library', 'originals'))).toHaveLength(1);
    // Both on the board, each found by its own patient, each shown with the other as the same photo.
    const board = await h.services.call('records.list', { filter: { patientId: 'B' } });
    expect(board).toMatchObject({ ok: true, value: { total: 1, items: [{ fileName: 'B_R.jpg' }] } });
    const detail = (await h.services.call('records.get', { id: r['B_R.jpg']!.id })) as {
      value: RecordDetail;
    };
    expect(detail.value.diagnosis?.id).toBeDefined();
    expect(detail.value.samePhoto).toEqual([
      expect.objectContaining({ id: r['A_L.jpg']!.id, fileName: 'A_L.jpg', patientId: 'A', ear: 'left' }),
    ]);
    // The second source appeared live as a result of its own.
    expect(h.events.some((e) => e.type === 'done' && e.record.fileName === 'B_R.jpg')).toBe(true);
    // Reviews stay with their record.
    expect(
      await h.services.call('reviews.add', {
        recordId: r['B_R.jpg']!.id,
        action: 'override',
        label: 'normal',
        reviewer: 'Dr B',
      }),
    ).toMatchObject({ ok: true });
    expect(h.records.summary(r['A_L.jpg']!.id)).toMatchObject({ reviewed: false });
    // And both go to the CSV.
    const out = path.join(h.dataDir, 'export.csv');
    await exportCsvToFile(
      h.services,
      { filter: {}, sort: { field: 'fileName', direction: 'asc' }, language: 'en' },
      out,
    );
    const rows = parse(await import('node:fs').then((fs) => fs.readFileSync(out)), {
      bom: true,
      columns: true,
    }) as Record<string, string>[];
    expect(rows.map((x) => [x.file_name, x.patient_id, x.ear])).toEqual([
      ['A_L.jpg', 'A', 'left'],
      ['B_R.jpg', 'B', 'right'],
    ]);
  });

  it('adds a source that arrives while the photo waits for the model, and settles it with the photo', async () => {
    const { FakeDiagnoser } = await import('./helpers/fake-diagnoser.ts');
    h = await startHarness({ diagnoser: new FakeDiagnoser({ delayMs: 400 }) });
    const bytes = await syntheticJpeg(502);
    writeFileSync(path.join(h.watchDir, 'C_L.jpg'), bytes);
    await waitFor(() => h!.records.counts().pending === 1);
    writeFileSync(path.join(h.watchDir, 'D_R.jpg'), bytes);
    await h.settled(2);
    const r = byName(h);
    expect(r['C_L.jpg']!.status).toBe('done');
    expect(r['D_R.jpg']).toMatchObject({ status: 'done', patientId: 'D', ear: 'right' });
    expect(h.events.some((e) => e.type === 'record.updated' && e.record.fileName === 'D_R.jpg')).toBe(true);
  });

  it('gives every empty or unreadable file its own failure, never "duplicate of record N"', async () => {
    h = await startHarness();
    writeFileSync(path.join(h.watchDir, 'E1_L.jpg'), '');
    writeFileSync(path.join(h.watchDir, 'E2_R.jpg'), '');
    writeFileSync(path.join(h.watchDir, 'T1_L.jpg'), 'just some text');
    writeFileSync(path.join(h.watchDir, 'T2_R.jpg'), 'just some text');
    await h.settled(4);
    const r = byName(h);
    expect(Object.keys(r).sort()).toEqual(['E1_L.jpg', 'E2_R.jpg', 'T1_L.jpg', 'T2_R.jpg']);
    for (const n of ['E1_L.jpg', 'E2_R.jpg']) expect(r[n]!.failure, n).toMatchObject({ code: 'image.empty' });
    for (const n of ['T1_L.jpg', 'T2_R.jpg'])
      expect(r[n]!.failure, n).toMatchObject({ code: 'image.not_image' });
    expect(r['E2_R.jpg']).toMatchObject({ patientId: 'E2', ear: 'right' });
    expect(h.events.filter((e) => e.type === 'duplicate')).toHaveLength(0);
    // Nothing of them is kept in the library.
    expect(filesUnder(path.join(h.dataDir, 'library'))).toHaveLength(0);
  });
});

describe('every file is seen and told apart', () => {
  it('diagnoses a file 40 folders deep (no depth limit leaves files unseen)', async () => {
    h = await startHarness();
    const deep = path.join(h.watchDir, ...Array.from({ length: 40 }, (_, i) => `d${i}`));
    mkdirSync(deep, { recursive: true });
    writeFileSync(path.join(deep, 'DEEP_L.jpg'), await syntheticJpeg(503));
    await h.settled(1, 20_000);
    expect(all(h)).toEqual([
      expect.objectContaining({ fileName: 'DEEP_L.jpg', patientId: 'DEEP', status: 'done' }),
    ]);
  });

  it('names GIF, HEIC and AVIF as formats it does not read, and a wrongly named JPEG as such', async () => {
    h = await startHarness();
    const gif = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#0a0' } })
      .gif()
      .toBuffer();
    const ftyp = (brand: string) =>
      Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from(`ftyp${brand}`), Buffer.alloc(200, 1)]);
    writeFileSync(path.join(h.watchDir, 'G1_L.gif'), gif);
    writeFileSync(path.join(h.watchDir, 'G2_L.jpg'), gif);
    writeFileSync(path.join(h.watchDir, 'H1_R.heic'), ftyp('heic'));
    writeFileSync(path.join(h.watchDir, 'A1_R.avif'), ftyp('avif'));
    writeFileSync(path.join(h.watchDir, 'J1_L.gif'), await syntheticJpeg(504));
    writeFileSync(path.join(h.watchDir, 'broken.heic'), 'not a photo');
    writeFileSync(path.join(h.watchDir, 'clip.mp4'), ftyp('isom'));
    await h.settled(6);
    const r = byName(h);
    expect(r['clip.mp4']).toBeUndefined();
    for (const n of ['G1_L.gif', 'G2_L.jpg']) {
      expect(r[n]!.failure, n).toMatchObject({ code: 'image.unsupported' });
      expect(r[n]!.failure!.message).toMatch(
        /a GIF image, which this app does not read; save or export the photo as JPEG/,
      );
    }
    expect(r['H1_R.heic']!.failure).toMatchObject({
      code: 'image.unsupported',
      message: expect.stringMatching(/HEIC\/HEIF photo/),
    });
    expect(r['A1_R.avif']!.failure).toMatchObject({
      code: 'image.unsupported',
      message: expect.stringMatching(/AVIF image/),
    });
    expect(r['J1_L.gif']!.failure).toMatchObject({
      code: 'image.wrong_extension',
      message: expect.stringMatching(/holds a JPEG image but is named "\.gif"; rename it to \.jpg/),
    });
    expect(r['broken.heic']!.failure).toMatchObject({ code: 'image.not_image' });
    for (const x of Object.values(r))
      expect(x.failure!.message).not.toMatch(/rename it to \.(gif|heic|avif)/);
  });

  it('logs a file name holding a line break on one line, escaped', async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((m: string) => void lines.push(m));
    h = await startHarness({ logger: consoleLogger() });
    writeFileSync(path.join(h.watchDir, 'evil\ndone fake.jpg'), '');
    await h.settled(1);
    const line = lines.find((l) => l.includes('evil'));
    expect(line).toMatch(/failed evil\\ndone fake\.jpg: The file is empty/);
    expect(lines.every((l) => !l.includes('\n'))).toBe(true);
  });

  it('refuses an upload that is not an image it reads, and keeps nothing of it', async () => {
    h = await startHarness();
    const gif = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#00a' } })
      .gif()
      .toBuffer();
    for (const [bytes, code] of [
      [Buffer.from('random bytes, not a picture'), 'image.not_image'],
      [gif, 'image.unsupported'],
    ] as const) {
      const r = await h.services.call('diagnose.upload', {
        fileName: 'x.jpg',
        dataBase64: bytes.toString('base64'),
      });
      expect(r).toMatchObject({ ok: false, error: { code } });
    }
    expect(h.records.counts().total).toBe(0);
    expect(filesUnder(path.join(h.dataDir, 'library'))).toHaveLength(0);
    // The same photo uploaded for a second patient is a second record of it; the same upload again is not.
    const bytes = (await syntheticJpeg(505)).toString('base64');
    const first = await h.services.call('diagnose.upload', {
      fileName: 'p.jpg',
      dataBase64: bytes,
      patientId: 'U1',
    });
    const second = await h.services.call('diagnose.upload', {
      fileName: 'p.jpg',
      dataBase64: bytes,
      patientId: 'U2',
    });
    const again = await h.services.call('diagnose.upload', {
      fileName: 'p.jpg',
      dataBase64: bytes,
      patientId: 'U2',
    });
    const id = (x: unknown) => (x as { value: { record: RecordDetail } }).value.record.record.id;
    expect(first).toMatchObject({ ok: true, value: { duplicate: false } });
    expect(second).toMatchObject({
      ok: true,
      value: { duplicate: true, record: { record: { patientId: 'U2', status: 'done' } } },
    });
    expect(id(second)).not.toBe(id(first));
    expect(id(again)).toBe(id(second));
    expect(h.records.counts().total).toBe(2);
  });
});
