import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../main/store/database.ts';
import { createPool, pgClientConfig } from '../../main/store/pg-pool.ts';
import { PgStore } from '../../main/store/pg-store.ts';
import type { NewImage } from '../../main/store/record-rows.ts';
import { SqliteStore } from '../../main/store/sqlite-store.ts';
import type { Store } from '../../main/store/store.ts';
import type { Diagnosis } from '../../model/types.ts';
import { FAKE_LABELS } from './helpers/fake-diagnoser.ts';
import { removeDir, tempDir } from './helpers/fs-helpers.ts';
import {
  POSTGRES_SKIP_REASON,
  postgresMissing,
  startPostgres,
  type TestPostgres,
} from './helpers/postgres.ts';

/**
 * The store seam's one suite, run against every backend: better-sqlite3 in a temporary file, and a real
 * PostgreSQL started for the run (skipped, saying so, only where PostgreSQL is not installed).
 */
interface Backend {
  name: string;
  open(): Promise<{ store: Store; raw(sql: string): Promise<unknown> }>;
}

let pg: TestPostgres | null = null;
let dbCount = 0;
if (postgresMissing) console.warn(`store suite: PostgreSQL skipped: ${POSTGRES_SKIP_REASON}`);
beforeAll(async () => {
  if (!postgresMissing) pg = await startPostgres();
}, 60_000);
afterAll(async () => {
  await pg?.stop();
});

let dir: string;
beforeEach(() => {
  dir = tempDir('store-suite');
});
afterEach(() => removeDir(dir));

const backends: Backend[] = [
  {
    name: 'sqlite',
    async open() {
      const o = await openDatabase(path.join(dir, 'db.sqlite'), { backupDir: path.join(dir, 'backups') });
      const store = new SqliteStore(o.db, o.backups);
      return { store, raw: async (sql) => o.db.exec(sql) };
    },
  },
  {
    name: 'postgres',
    async open() {
      const name = `suite_${process.pid}_${++dbCount}`;
      pg!.createDatabase(name);
      const connect = { url: pg!.url(name), passwordFile: pg!.passwordFile, applicationName: 'suite' };
      const store = await PgStore.open(createPool(connect), pg!.url(name), {
        workstation: 'suite',
        listenConfig: pgClientConfig(connect),
      });
      return { store, raw: (sql) => store.pool.query(sql) };
    },
  },
];

function image(i: number, extra: Partial<NewImage> = {}): NewImage {
  return {
    sha256: i.toString(16).padStart(64, '0'),
    fileName: `img${i}.jpg`,
    originalPath: `/in/img${i}.jpg`,
    source: 'watch',
    storedPath: `originals/00/${i}.jpg`,
    thumbPath: null,
    sizeBytes: 1000,
    width: 640,
    height: 480,
    format: 'jpeg',
    capturedAt: new Date(Date.UTC(2026, 10, 1 + (i % 5), 12)).toISOString(),
    captureSource: 'mtime',
    patientId: `P${i % 3}`,
    ear: i % 2 ? 'left' : 'right',
    patientSource: 'pattern',
    ...extra,
  };
}

function diagnosis(label: string | null, gate: Diagnosis['gate'] = 'eardrum'): Diagnosis {
  return {
    gate,
    eardrumProbability: gate === 'eardrum' ? 0.9 : 0.1,
    label,
    probabilities: label ? { normal: 0.1, aom: 0.1, effusion: 0.1, [label]: 0.8 } : {},
    decision: label ? 'confident' : null,
    notSureReasons: [],
    unfamiliarity: label ? 0.1 : null,
    heatmap: label ? { rows: 1, cols: 2, values: [0.2, 0.9], overlayPng: Buffer.alloc(0) } : null,
    image: { width: 640, height: 480, format: 'jpeg' },
    timings: { decodeMs: 1, inferenceMs: 2, totalMs: 3 },
    model: { id: 'm', version: '1', backend: 'cpu' },
  };
}

const newest = { field: 'capturedAt', direction: 'desc' } as const;

describe.each(backends)('store ($name)', (backend) => {
  let store: Store;
  let raw: (sql: string) => Promise<unknown>;
  beforeEach(async (ctx) => {
    if (backend.name === 'postgres' && postgresMissing) ctx.skip();
    ({ store, raw } = await backend.open());
    store.setLabels(FAKE_LABELS);
  });
  afterEach(async () => {
    await store?.close();
  });

  it('stores a photo once, its diagnosis for every record of it, and answers the board, counts and CSV', async () => {
    const a = await store.insertImage(
      image(1, { sourceFile: { path: '/in/img1.jpg', size: 1000, mtimeMs: 5.7 } }),
    );
    expect(a).toEqual({ id: expect.any(Number), created: true });
    expect(await store.insertImage(image(1, { fileName: 'again.jpg' }))).toEqual({
      id: a.id,
      created: false,
    });
    expect(await store.knownSource('/in/img1.jpg', 1000, 5)).toBe(a.id);
    expect(await store.knownSource('/in/img1.jpg', 1001, 5)).toBeNull();
    const b = await store.addSource(a.id, {
      fileName: 'P9_R.jpg',
      originalPath: '/in/P9_R.jpg',
      source: 'watch',
      capturedAt: '2026-11-03T10:00:00.000Z',
      captureSource: 'name',
      patientId: 'P9',
      ear: 'right',
      patientSource: 'pattern',
    });
    expect((await store.pendingImages()).map((r) => r.id)).toEqual([a.id]);
    await store.commitDiagnosis(a.id, diagnosis('aom'), 'overlays/x-layer.png');
    for (const id of [a.id, b]) {
      const s = (await store.summary(id))!;
      expect(s).toMatchObject({
        status: 'done',
        modelLabel: 'aom',
        effectiveLabel: 'aom',
        abnormal: true,
        hasOverlay: true,
      });
    }
    expect((await store.summary(b))!.decision).toBe('confident');
    expect(
      (await store.list({ filter: { decision: 'confident' }, sort: newest, offset: 0, limit: 10 })).total,
    ).toBe(2);
    const d = (await store.detail(b))!;
    expect(d.diagnosis).toMatchObject({ label: 'aom', heatmap: { rows: 1, cols: 2, values: [0.2, 0.9] } });
    expect(d.samePhoto!.map((r) => r.id)).toEqual([a.id]);
    expect((await store.photoRecords(b)).map((r) => r.id)).toEqual([a.id, b]);

    const failed = await store.insertImage(
      image(2, { storedPath: null, failure: { code: 'image.empty', message: 'The file is empty.' } }),
    );
    expect((await store.summary(failed.id))!.failure).toEqual({
      code: 'image.empty',
      message: 'The file is empty.',
    });
    expect(await store.counts()).toEqual({ total: 3, done: 2, failed: 1, pending: 0 });

    const page = await store.list({ filter: {}, sort: newest, offset: 0, limit: 2 });
    expect(page.total).toBe(3);
    expect(page.items.map((r) => r.id)).toEqual([failed.id, b]);
    const byText = await store.list({ filter: { text: 'P9_r' }, sort: newest, offset: 0, limit: 10 });
    expect(byText.items.map((r) => r.id)).toEqual([b]);
    expect((await store.list({ filter: { text: '100%' }, sort: newest, offset: 0, limit: 10 })).total).toBe(
      0,
    );
    expect(
      (await store.list({ filter: { labels: ['aom'], ear: 'right' }, sort: newest, offset: 0, limit: 10 }))
        .total,
    ).toBe(1);
    expect(
      (await store.list({ filter: { from: '10000-01-01' }, sort: newest, offset: 0, limit: 10 })).total,
    ).toBe(0);

    const visits = await store.visits({ filter: {}, offset: 0, limit: 10 });
    expect(visits).toMatchObject({ total: 3, withoutPatient: 0 });
    const p9 = visits.items.find((v) => v.patientId === 'P9')!;
    expect(p9).toMatchObject({ day: '2026-11-03', count: 1, left: null, unknownEar: 0 });
    expect(p9.right!.id).toBe(b);
    const perDay = await store.countsPerDay({});
    expect(perDay.keys).toEqual(['aom', 'failed']);
    expect(perDay.days).toEqual([
      { day: '2026-11-02', counts: { aom: 1 }, total: 1 },
      { day: '2026-11-03', counts: { aom: 1, failed: 1 }, total: 2 },
    ]);

    const rows = [];
    for await (const batch of store.exportRows({}, { field: 'capturedAt', direction: 'asc' }))
      rows.push(...batch);
    expect(rows.map((r) => r[0])).toEqual([a.id, b, failed.id]);
  });

  it('keeps reviews and diagnoses append-only in the database itself, and reviews with the board columns', async () => {
    const { id } = await store.insertImage(image(3));
    await expect(
      store.addReview({ recordId: id, action: 'confirm', note: '', reviewer: 'dr' }),
    ).rejects.toThrow(/Only a diagnosed record/);
    await store.commitDiagnosis(id, diagnosis('normal'), null);
    await store.addReview({
      recordId: id,
      action: 'override',
      label: 'aom',
      note: 'bulging drum',
      reviewer: 'dr kim',
    });
    await store.addReview({ recordId: id, action: 'confirm', note: '', reviewer: 'dr lee' });
    await expect(
      store.addReview({ recordId: id, action: 'override', label: 'nonsense', note: '', reviewer: 'x' }),
    ).rejects.toThrow(/Unknown label/);
    const d = (await store.detail(id))!;
    expect(d.record).toMatchObject({
      modelLabel: 'normal',
      reviewedLabel: 'aom',
      effectiveLabel: 'aom',
      reviewCount: 2,
    });
    expect(d.reviews.map((r) => [r.action, r.label, r.reviewer])).toEqual([
      ['override', 'aom', 'dr kim'],
      ['confirm', 'aom', 'dr lee'],
    ]);
    expect((await store.list({ filter: { text: 'bulging' }, sort: newest, offset: 0, limit: 5 })).total).toBe(
      1,
    );
    await expect(raw(`UPDATE reviews SET label = 'normal'`)).rejects.toThrow(/append-only/);
    await expect(raw('DELETE FROM reviews')).rejects.toThrow(/append-only/);
    await expect(raw('UPDATE diagnoses SET label = NULL')).rejects.toThrow(/append-only/);
    await expect(raw('DELETE FROM diagnoses')).rejects.toThrow(/append-only/);
  });

  it('follows a renamed file, edits patients with an audit trail, and fails and retries a photo', async () => {
    const f = { path: '/in/P1_L.jpg', size: 1000, mtimeMs: 7 };
    const { id } = await store.insertImage(
      image(4, { sourceFile: f, originalPath: f.path, fileName: 'P1_L.jpg' }),
    );
    expect(await store.sourcesWithSameFile(image(4).sha256, 1000, 7)).toEqual([
      { path: f.path, recordId: id },
    ]);
    await store.moveSource(
      id,
      f.path,
      { path: '/in/P2_R.jpg', fileName: 'P2_R.jpg', size: 1000, mtimeMs: 7 },
      {
        patientId: 'P2',
        ear: 'right',
        matched: true,
      },
    );
    expect(await store.summary(id)).toMatchObject({ fileName: 'P2_R.jpg', patientId: 'P2', ear: 'right' });
    expect(await store.knownSource('/in/P1_L.jpg', 1000, 7)).toBeNull();
    expect(await store.knownSource('/in/P2_R.jpg', 1000, 7)).toBe(id);
    await store.updatePatient(id, 'P3', 'left');
    expect(await store.row(id)).toMatchObject({ patient_id: 'P3', ear: 'left', patient_source: 'manual' });
    // The detail's changes of patient and ear: the rename's, then the hand edit's (the ear unchanged by the
    // rename), in the order made even within one millisecond.
    expect((await store.detail(id))!.patientEdits).toEqual([
      { field: 'patientId', from: 'P1', to: 'P2', at: expect.any(String), applied: true },
      { field: 'patientId', from: 'P2', to: 'P3', at: expect.any(String), applied: true },
      { field: 'ear', from: 'right', to: 'left', at: expect.any(String), applied: true },
    ]);
    await store.markFailed(id, { code: 'model.crashed', message: 'x' });
    expect((await store.summary(id))!.status).toBe('failed');
    await store.markPending(id);
    expect((await store.pendingImages()).map((r) => r.id)).toEqual([id]);
    await store.setThumbnail(id, 'thumbs/00/4.jpg');
    expect((await store.summary(id))!.hasThumbnail).toBe(true);
  });

  it('keeps settings with an audit trail of thresholds, and model cards', async () => {
    expect((await store.getSettings()).recursive).toBe(true);
    await store.updateSettings({ thresholds: { eardrum: 0.6 }, reviewerName: 'dr kim' }, 'dr kim');
    await store.updateSettings({ thresholds: { eardrum: 0.7 } }, 'dr lee');
    expect(await store.getSettings()).toMatchObject({ thresholds: { eardrum: 0.7 }, reviewerName: 'dr kim' });
    expect((await store.settingsChanges()).map((c) => [c.oldValue, c.newValue, c.changedBy])).toEqual([
      [0.6, 0.7, 'dr lee'],
      [null, 0.6, 'dr kim'],
    ]);
    await expect(store.updateSettings({ pollIntervalMs: -5 })).rejects.toThrow(/Invalid setting/);
    // This workstation's settings and the clinic's in one patch (two tables on PostgreSQL, one transaction).
    await store.updateSettings({ watchDir: '/in/room', fileNamePattern: '{patient}_x', clinicName: 'ENT' });
    expect(await store.getSettings()).toMatchObject({
      watchDir: '/in/room',
      fileNamePattern: '{patient}_x',
      clinicName: 'ENT',
      thresholds: { eardrum: 0.7 },
      reviewerName: 'dr kim',
    });
    expect(await store.settingsChanges()).toHaveLength(2);
    expect(await store.latestModelLabels()).toEqual([]);
    await store.registerModel({ id: 'm', version: '1', labels: FAKE_LABELS, details: {} });
    await store.registerModel({ id: 'm', version: '1', labels: [], details: {} });
    expect(await store.latestModelLabels()).toEqual(FAKE_LABELS);
    expect((await store.health()).backend).toBe(backend.name);
  });
});
