import Database from 'better-sqlite3';
import { existsSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Backups, KEEP_BACKUPS } from '../../main/store/backups.ts';
import { integrityCheck, openDatabase, openDatabaseReadOnly } from '../../main/store/database.ts';
import { checksum, LATEST_SCHEMA_VERSION, migrations } from '../../main/store/migrations.ts';
import { RecordStore, type NewImage } from '../../main/store/records.ts';
import { SettingsStore } from '../../main/store/settings-store.ts';
import { FAKE_LABELS } from './helpers/fake-diagnoser.ts';
import { removeDir, tempDir } from './helpers/fs-helpers.ts';
import type { Diagnosis } from '../../model/types.ts';

let dir: string;
beforeEach(() => {
  dir = tempDir('store');
});
afterEach(() => removeDir(dir));

const open = (name = 'db.sqlite') =>
  openDatabase(path.join(dir, name), { backupDir: path.join(dir, 'backups') });

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
  const probabilities: Record<string, number> = label
    ? { normal: 0.1, aom: 0.1, effusion: 0.1, [label]: 0.8 }
    : {};
  return {
    gate,
    eardrumProbability: gate === 'eardrum' ? 0.9 : 0.1,
    label,
    probabilities,
    decision: label ? 'confident' : null,
    notSureReasons: [],
    unfamiliarity: label ? 0.1 : null,
    heatmap: label ? { rows: 1, cols: 2, values: [0.2, 0.9], overlayPng: Buffer.alloc(0) } : null,
    image: { width: 640, height: 480, format: 'jpeg' },
    timings: { decodeMs: 1, inferenceMs: 2, totalMs: 3 },
    model: { id: 'm', version: '1', backend: 'cpu' },
  };
}

describe('database', () => {
  it('creates a new database in WAL mode with foreign keys and every migration recorded', async () => {
    const { db, migratedFrom, schemaVersion } = await open();
    expect(migratedFrom).toBe(0);
    expect(schemaVersion).toBe(LATEST_SCHEMA_VERSION);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('user_version', { simple: true })).toBe(LATEST_SCHEMA_VERSION);
    const rows = db.prepare('SELECT version, checksum FROM schema_migrations ORDER BY version').all();
    expect(rows).toEqual(migrations.map((m) => ({ version: m.version, checksum: checksum(m) })));
    expect(integrityCheck(db)).toEqual(['ok']);
    db.close();
  });

  it('backs up the old database before migrating it, and the backup holds the old version', async () => {
    const file = path.join(dir, 'old.sqlite');
    const raw = new Database(file);
    raw.exec(migrations[0]!.sql);
    raw
      .prepare('INSERT INTO schema_migrations VALUES (?, ?, ?, ?)')
      .run(1, migrations[0]!.name, checksum(migrations[0]!), new Date().toISOString());
    raw.pragma('user_version = 1');
    raw.prepare("INSERT INTO settings VALUES ('language', '\"en\"', 'x')").run();
    raw.close();
    const { db, migratedFrom, preMigrationBackup } = await openDatabase(file, {
      backupDir: path.join(dir, 'backups'),
    });
    expect(migratedFrom).toBe(1);
    expect(preMigrationBackup).not.toBeNull();
    const backup = new Database(preMigrationBackup!, { readonly: true });
    expect(backup.pragma('user_version', { simple: true })).toBe(1);
    expect(backup.prepare('SELECT value FROM settings').pluck().get()).toBe('"en"');
    backup.close();
    expect(new SettingsStore(db).get().language).toBe('en');
    db.close();
  });

  it('stops showing overlays made before heatmaps became layers in the photo geometry', async () => {
    const file = path.join(dir, 'overlays.sqlite');
    const raw = new Database(file);
    for (const m of migrations.filter((m) => m.version < 5)) {
      raw.exec(m.sql);
      raw
        .prepare('INSERT INTO schema_migrations VALUES (?, ?, ?, ?)')
        .run(m.version, m.name, checksum(m), new Date().toISOString());
    }
    raw.pragma('user_version = 4');
    const insert = raw.prepare(
      `INSERT INTO images (sha256, file_name, original_path, source, size_bytes, captured_at, capture_source,
         ingested_at, status, overlay_path) VALUES (?, 'a.jpg', '/a.jpg', 'watch', 1, '2026-11-01', 'mtime', 'x', 'done', ?)`,
    );
    insert.run('a'.repeat(64), 'overlays/aa/aaa-m-1.png');
    insert.run('b'.repeat(64), 'overlays/bb/bbb-m-1-layer.png');
    raw.close();
    const { db } = await openDatabase(file, { backupDir: path.join(dir, 'backups-overlays') });
    expect(db.prepare('SELECT overlay_path FROM images ORDER BY id').pluck().all()).toEqual([
      null,
      'overlays/bb/bbb-m-1-layer.png',
    ]);
    db.close();
  });

  it('migrates a version 3 history with diagnoses, reviews and search text to shared photos, losing nothing', async () => {
    const v3 = path.join(dir, 'v3-rows.sqlite');
    const r3 = new Database(v3);
    for (const m of migrations.filter((x) => x.version <= 3)) {
      r3.exec(m.sql);
      r3.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?, ?)').run(
        m.version,
        m.name,
        checksum(m),
        'x',
      );
    }
    r3.pragma('user_version = 3');
    r3.exec(`
      INSERT INTO patients VALUES ('P1', 'x');
      INSERT INTO images (id, sha256, file_name, original_path, source, stored_path, size_bytes, captured_at,
        captured_ms, capture_source, ingested_at, status, patient_id, ear, search_text)
        VALUES (1, '${'a'.repeat(64)}', 'P1_L.jpg', '/in/P1_L.jpg', 'watch', 'originals/aa/a.jpg', 10,
        '2026-11-01T00:00:00.000Z', 1793491200000, 'mtime', 'x', 'done', 'P1', 'left', 'p1_l.jpg'),
        (2, '${'b'.repeat(64)}', 'x.jpg', '/in/x.jpg', 'watch', NULL, 0, '2026-11-02T00:00:00.000Z',
        1793577600000, 'mtime', 'x', 'failed', NULL, 'unknown', 'x.jpg');
      INSERT INTO diagnoses (id, image_id, model_id, model_version, backend, gate, eardrum_probability, label,
        probabilities, decode_ms, inference_ms, total_ms, created_at)
        VALUES (1, 1, 'm', '1', 'cpu', 'eardrum', 0.9, 'aom', '{}', 1, 1, 2, 'x');
      UPDATE images SET diagnosis_id = 1, gate = 'eardrum', model_label = 'aom', effective_label = 'aom' WHERE id = 1;
      INSERT INTO reviews (image_id, action, label, note, reviewer, created_at) VALUES (1, 'confirm', 'aom', 'ok', 'Dr', 'x');
      INSERT INTO source_files VALUES ('/in/P1_L.jpg', 10, 5, 1, 'x');
    `);
    r3.close();
    const opened = await openDatabase(v3, { backupDir: path.join(dir, 'backups') });
    expect(opened.migratedFrom).toBe(3);
    expect(opened.preMigrationBackup).not.toBeNull();
    const s = new RecordStore(opened.db);
    expect(s.detail(1)).toMatchObject({
      record: { fileName: 'P1_L.jpg', patientId: 'P1', status: 'done', modelLabel: 'aom' },
      diagnosis: { id: 1, label: 'aom' },
      reviews: [{ label: 'aom', note: 'ok' }],
      samePhoto: [],
    });
    expect(
      s.list({
        filter: { text: 'p1_l' },
        sort: { field: 'capturedAt', direction: 'asc' },
        offset: 0,
        limit: 5,
      }).total,
    ).toBe(1);
    expect(opened.db.pragma('foreign_key_check')).toEqual([]);
    expect(opened.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(() => opened.db.prepare('DELETE FROM images WHERE id = 1').run()).toThrow(/FOREIGN KEY/);
    // Still append-only, and the photo can now gain a second source.
    expect(() => opened.db.prepare('DELETE FROM reviews').run()).toThrow(/append-only/);
    const second = s.addSource(1, {
      fileName: 'P2_R.jpg',
      originalPath: '/in/P2_R.jpg',
      source: 'watch',
      capturedAt: '2026-11-03T00:00:00.000Z',
      captureSource: 'mtime',
      patientId: 'P2',
      ear: 'right',
      patientSource: 'pattern',
    });
    expect(s.summary(second)).toMatchObject({
      patientId: 'P2',
      status: 'done',
      modelLabel: 'aom',
      reviewed: false,
    });
    expect(integrityCheck(opened.db)).toEqual(['ok']);
    opened.db.close();
  });

  it('gives results recorded before the model had a decision none (null), and the next ones theirs', async () => {
    const v6 = path.join(dir, 'v6.sqlite');
    const raw = new Database(v6);
    for (const m of migrations.filter((x) => x.version <= 6)) {
      raw.exec(m.sql);
      raw
        .prepare('INSERT INTO schema_migrations VALUES (?, ?, ?, ?)')
        .run(m.version, m.name, checksum(m), 'x');
    }
    raw.pragma('user_version = 6');
    raw.exec(`
      INSERT INTO images (id, sha256, file_name, original_path, source, stored_path, size_bytes, captured_at,
        captured_ms, capture_source, ingested_at, status, ear, search_text)
        VALUES (1, '${'c'.repeat(64)}', 'old.jpg', '/in/old.jpg', 'watch', 'originals/cc/c.jpg', 10,
        '2026-11-01T00:00:00.000Z', 1793491200000, 'mtime', 'x', 'done', 'left', 'old.jpg');
      INSERT INTO diagnoses (id, image_id, model_id, model_version, backend, gate, eardrum_probability, label,
        probabilities, decode_ms, inference_ms, total_ms, created_at)
        VALUES (1, 1, 'm', '1', 'cpu', 'eardrum', 0.9, 'aom', '{"aom":0.4,"normal":0.35}', 1, 1, 2, 'x');
      UPDATE images SET diagnosis_id = 1, gate = 'eardrum', model_label = 'aom', confidence = 0.4,
        effective_label = 'aom' WHERE id = 1;
    `);
    raw.close();
    const opened = await openDatabase(v6, { backupDir: path.join(dir, 'backups-v6') });
    expect(opened.migratedFrom).toBe(6);
    const s = new RecordStore(opened.db);
    s.setLabels(FAKE_LABELS);
    expect(s.summary(1)!.decision).toBeNull();
    expect(s.detail(1)!.diagnosis).toMatchObject({
      label: 'aom',
      decision: null,
      notSureReasons: [],
      unfamiliarity: null,
    });
    const page = (decision: 'confident' | 'not_sure') =>
      s.list({ filter: { decision }, sort: { field: 'capturedAt', direction: 'asc' }, offset: 0, limit: 9 });
    expect(page('not_sure').total).toBe(0);
    expect(page('confident').total).toBe(0);
    // The column only takes the two decisions.
    expect(() => opened.db.prepare("UPDATE images SET decision = 'maybe' WHERE id = 1").run()).toThrow(
      /CHECK/,
    );
    const next = s.insertImage(image(7));
    s.commitDiagnosis(
      next.id,
      { ...diagnosis('aom'), decision: 'not_sure', notSureReasons: ['unfamiliar'] },
      null,
    );
    expect(page('not_sure').items.map((r) => r.id)).toEqual([next.id]);
    expect(integrityCheck(opened.db)).toEqual(['ok']);
    opened.db.close();
  });

  it('refuses a damaged file with a clear error and leaves it untouched', async () => {
    const file = path.join(dir, 'bad.sqlite');
    writeFileSync(file, Buffer.alloc(8192, 7));
    await expect(openDatabase(file, { backupDir: path.join(dir, 'b') })).rejects.toMatchObject({
      code: 'database_corrupt',
    });
    expect(readdirSync(dir).sort()).toEqual(['bad.sqlite']);
  });

  it('refuses a database from a newer app and one whose migration history was altered', async () => {
    const { db } = await open('a.sqlite');
    db.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 1}`);
    db.close();
    await expect(open('a.sqlite')).rejects.toMatchObject({ code: 'unsupported' });

    const b = await open('b.sqlite');
    b.db.prepare("UPDATE schema_migrations SET checksum = 'x' WHERE version = 1").run();
    b.db.close();
    await expect(open('b.sqlite')).rejects.toMatchObject({ code: 'database_corrupt' });
  });

  it('keeps the last few daily backups and makes one only when a day has passed', async () => {
    const { db, backups } = await open();
    expect(await backups.dailyIfDue()).not.toBeNull();
    expect(await backups.dailyIfDue()).toBeNull();
    const made: string[] = [];
    for (let i = 0; i < KEEP_BACKUPS.daily + 2; i++) {
      await new Promise((r) => setTimeout(r, 3)); // names carry milliseconds
      made.push(await backups.create('daily'));
    }
    const kept = (await backups.list('daily')).map((b) => b.file);
    expect(kept).toHaveLength(KEEP_BACKUPS.daily);
    expect(kept).toEqual(made.slice(-KEEP_BACKUPS.daily).reverse());
    const old = (Date.now() - 2 * 86_400_000) / 1000;
    for (const f of kept) utimesSync(f, old, old);
    expect(await backups.dailyIfDue()).not.toBeNull();
    for (const file of kept.slice(0, 2)) {
      const copy = new Database(file, { readonly: true });
      expect(copy.pragma('quick_check', { simple: true })).toBe('ok');
      expect(copy.pragma('user_version', { simple: true })).toBe(LATEST_SCHEMA_VERSION);
      copy.close();
    }
    db.close();
  });

  it('reads with a read-only connection and rejects an unmigrated file there', async () => {
    const { db } = await open();
    db.close();
    const ro = openDatabaseReadOnly(path.join(dir, 'db.sqlite'));
    expect(() => ro.exec("INSERT INTO settings VALUES ('a', '1', 'x')")).toThrow();
    ro.close();
    expect(() => openDatabaseReadOnly(path.join(dir, 'none.sqlite'))).toThrow(/no database/);
  });
});

describe('records', () => {
  let store: RecordStore;
  let db: Database.Database;
  beforeEach(async () => {
    db = (await open()).db;
    store = new RecordStore(db);
    store.setLabels(FAKE_LABELS);
  });
  afterEach(() => db.close());

  it('groups records into visits: patient and local day, newest first, latest photo of each ear', () => {
    const add = (
      i: number,
      patientId: string | null,
      ear: 'left' | 'right' | 'unknown',
      capturedAt: string,
      label = 'aom',
    ) => {
      const { id } = store.insertImage(image(i, { patientId, ear, capturedAt }));
      store.commitDiagnosis(id, diagnosis(label), null);
      return id;
    };
    // 23:30 UTC on the 24th is the 25th in Seoul (UTC+9).
    const leftEarly = add(1, 'K1', 'left', '2026-11-24T23:30:00.000Z', 'effusion');
    const leftLate = add(2, 'K1', 'left', '2026-11-25T01:00:00.000Z', 'normal');
    const right = add(3, 'K1', 'right', '2026-11-25T00:10:00.000Z');
    add(4, 'K1', 'unknown', '2026-11-25T02:00:00.000Z');
    const earlier = add(5, 'K1', 'left', '2026-11-04T01:00:00.000Z');
    add(6, null, 'left', '2026-11-25T03:00:00.000Z');
    add(7, 'Z9', 'right', '2026-11-20T01:00:00.000Z');
    const seoul = { utcOffsetMinutes: 540 };
    const page = store.visits({ filter: seoul, offset: 0, limit: 10 });
    expect(page.total).toBe(3);
    expect(page.withoutPatient).toBe(1);
    expect(page.items.map((v) => [v.patientId, v.day, v.count, v.unknownEar])).toEqual([
      ['K1', '2026-11-25', 4, 1],
      ['Z9', '2026-11-20', 1, 0],
      ['K1', '2026-11-04', 1, 0],
    ]);
    expect(page.items[0]!.left?.id).toBe(leftLate);
    expect(page.items[0]!.right?.id).toBe(right);
    expect(page.items[2]!.left?.id).toBe(earlier);
    expect(page.items[2]!.right).toBeNull();
    expect(leftEarly).toBeGreaterThan(0);
    // In UTC the early left photo falls on the 24th: a visit of its own.
    expect(store.visits({ filter: {}, offset: 0, limit: 10 }).total).toBe(4);
    // A filter picks visits with a matching record, and still shows both ears of them.
    const effusion = store.visits({ filter: { ...seoul, labels: ['effusion'] }, offset: 0, limit: 10 });
    expect(effusion.items.map((v) => v.day)).toEqual(['2026-11-25']);
    expect(effusion.items[0]!.right?.id).toBe(right);
    expect(store.visits({ filter: seoul, offset: 1, limit: 1 }).items.map((v) => v.patientId)).toEqual([
      'Z9',
    ]);
  });

  it('dedupes by hash and keeps the model answer when a review overrides it', () => {
    const a = store.insertImage(image(1));
    expect(a.created).toBe(true);
    expect(store.insertImage(image(1, { fileName: 'other.jpg' }))).toEqual({ id: a.id, created: false });
    // A file that failed before anything was stored never dedupes: it keeps a record and a reason of its own.
    const failure = { code: 'image.empty', message: 'The file is empty (0 bytes).' };
    const e1 = store.insertImage(image(9, { storedPath: null, failure }));
    const e2 = store.insertImage(image(9, { storedPath: null, failure, fileName: 'again.jpg' }));
    expect(e1.created && e2.created && e1.id !== e2.id).toBe(true);
    store.commitDiagnosis(a.id, diagnosis('aom'), 'overlays/x.png');
    store.addReview({
      recordId: a.id,
      action: 'override',
      label: 'normal',
      note: 'looked again',
      reviewer: 'Dr Kim',
    });
    store.addReview({ recordId: a.id, action: 'confirm', note: '', reviewer: 'Dr Lee' });
    const d = store.detail(a.id)!;
    expect(d.record).toMatchObject({
      modelLabel: 'aom',
      reviewedLabel: 'normal',
      effectiveLabel: 'normal',
      abnormal: false,
      reviewed: true,
      reviewCount: 2,
      lastReviewer: 'Dr Lee',
      hasOverlay: true,
      confidence: 0.8,
    });
    expect(d.diagnosis).toMatchObject({ label: 'aom', heatmap: { rows: 1, cols: 2, values: [0.2, 0.9] } });
    expect(d.reviews.map((r) => [r.action, r.label, r.reviewer])).toEqual([
      ['override', 'normal', 'Dr Kim'],
      ['confirm', 'normal', 'Dr Lee'],
    ]);
    expect(() => db.prepare("UPDATE reviews SET label = 'aom'").run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM reviews').run()).toThrow(/append-only/);
    expect(() => db.prepare("UPDATE diagnoses SET label = 'normal'").run()).toThrow(/append-only/);
    expect(() => store.commitDiagnosis(a.id, diagnosis('aom'), null)).toThrow(/UNIQUE/);
    expect(store.detail(a.id)!.diagnosis!.label).toBe('aom');
  });

  it('keeps the model’s decision and its reasons with the record, through reviews and shared photos', () => {
    const sure = store.insertImage(image(21));
    const unsure = store.insertImage(image(22));
    const dark = store.insertImage(image(23));
    store.commitDiagnosis(sure.id, diagnosis('normal'), null);
    store.commitDiagnosis(
      unsure.id,
      {
        ...diagnosis('aom'),
        probabilities: { normal: 0.3, aom: 0.34, effusion: 0.36 },
        decision: 'not_sure',
        notSureReasons: ['low_confidence', 'unfamiliar'],
        unfamiliarity: 1.7,
      },
      null,
    );
    // A classifier that sent a decision with another gate: only an eardrum answer keeps one.
    store.commitDiagnosis(
      dark.id,
      { ...diagnosis(null, 'ungradable'), decision: 'not_sure', notSureReasons: ['low_confidence'] },
      null,
    );
    expect(store.summary(sure.id)!.decision).toBe('confident');
    expect(store.summary(unsure.id)!.decision).toBe('not_sure');
    expect(store.summary(dark.id)!.decision).toBeNull();
    expect(store.detail(unsure.id)!.diagnosis).toMatchObject({
      label: 'aom',
      decision: 'not_sure',
      notSureReasons: ['low_confidence', 'unfamiliar'],
      unfamiliarity: 1.7,
    });
    expect(store.detail(sure.id)!.diagnosis).toMatchObject({ decision: 'confident', notSureReasons: [] });
    expect(store.detail(dark.id)!.diagnosis).toMatchObject({ decision: null, notSureReasons: [] });

    const ids = (decision?: 'confident' | 'not_sure') =>
      store
        .list({
          filter: decision ? { decision } : {},
          sort: { field: 'capturedAt', direction: 'asc' },
          offset: 0,
          limit: 50,
        })
        .items.map((r) => r.id)
        .sort((a, b) => a - b);
    expect(ids('not_sure')).toEqual([unsure.id]);
    expect(ids('confident')).toEqual([sure.id]);
    expect(ids()).toEqual([sure.id, unsure.id, dark.id]);

    // A review settles the label but never rewrites the model's decision.
    store.addReview({
      recordId: unsure.id,
      action: 'override',
      label: 'effusion',
      note: '',
      reviewer: 'Dr Kim',
    });
    expect(store.summary(unsure.id)).toMatchObject({ decision: 'not_sure', effectiveLabel: 'effusion' });
    expect(ids('not_sure')).toEqual([unsure.id]);
    // Another file name of the same photo shares its diagnosis, decision included.
    const other = store.addSource(unsure.id, {
      fileName: 'again.jpg',
      originalPath: '/in/again.jpg',
      source: 'watch',
      capturedAt: '2026-11-02T00:00:00.000Z',
      captureSource: 'mtime',
      patientId: 'P9',
      ear: 'right',
      patientSource: 'pattern',
    });
    expect(store.summary(other)).toMatchObject({ decision: 'not_sure', reviewed: false });
    expect(ids('not_sure')).toEqual([unsure.id, other]);
  });

  it('rejects unknown override labels and confirming an undiagnosed record, writing nothing', () => {
    const a = store.insertImage(image(2));
    expect(() => store.addReview({ recordId: a.id, action: 'confirm', note: '', reviewer: 'x' })).toThrow(
      /Only a diagnosed record/,
    );
    store.commitDiagnosis(a.id, diagnosis('normal'), null);
    expect(() =>
      store.addReview({ recordId: a.id, action: 'override', label: 'cholera', note: '', reviewer: 'x' }),
    ).toThrow(/Unknown label "cholera"/);
    expect(store.detail(a.id)!.reviews).toEqual([]);
    store.addReview({ recordId: a.id, action: 'override', label: 'not_eardrum', note: '', reviewer: 'x' });
    expect(store.summary(a.id)!.effectiveLabel).toBe('not_eardrum');
  });

  it('filters, sorts, pages and counts per label per day', () => {
    const labels = ['normal', 'aom', 'effusion'];
    for (let i = 1; i <= 30; i++) {
      const { id } = store.insertImage(image(i));
      if (i % 10 === 0) store.markFailed(id, { code: 'image.corrupt', message: 'bad' });
      else if (i % 7 === 0) store.commitDiagnosis(id, diagnosis(null, 'not_eardrum'), null);
      else store.commitDiagnosis(id, diagnosis(labels[i % 3]!), null);
    }
    store.addReview({
      recordId: 1,
      action: 'override',
      label: 'effusion',
      note: 'Fluid level seen',
      reviewer: 'K',
    });
    const all = store.list({
      filter: {},
      sort: { field: 'capturedAt', direction: 'asc' },
      offset: 0,
      limit: 500,
    });
    expect(all.total).toBe(30);
    const caps = all.items.map((r) => r.capturedAt);
    expect([...caps].sort()).toEqual(caps);

    const page1 = store.list({
      filter: {},
      sort: { field: 'fileName', direction: 'asc' },
      offset: 0,
      limit: 7,
    });
    const page2 = store.list({
      filter: {},
      sort: { field: 'fileName', direction: 'asc' },
      offset: 7,
      limit: 7,
    });
    expect(page1.items).toHaveLength(7);
    expect(new Set([...page1.items, ...page2.items].map((r) => r.id)).size).toBe(14);

    const aom = store.list({
      filter: { labels: ['aom'] },
      sort: { field: 'capturedAt', direction: 'desc' },
      offset: 0,
      limit: 50,
    });
    expect(aom.items.every((r) => r.effectiveLabel === 'aom')).toBe(true);
    const byText = store.list({
      filter: { text: 'FLUID' },
      sort: { field: 'capturedAt', direction: 'desc' },
      offset: 0,
      limit: 50,
    });
    expect(byText.items.map((r) => r.id)).toEqual([1]);
    const korean = store.list({
      filter: { text: '삼출성' },
      sort: { field: 'capturedAt', direction: 'desc' },
      offset: 0,
      limit: 50,
    });
    expect(korean.total).toBeGreaterThan(0);
    expect(korean.items.every((r) => r.effectiveLabel === 'effusion' || r.modelLabel === 'effusion')).toBe(
      true,
    );
    const pct = store.list({
      filter: { text: '%' },
      sort: { field: 'capturedAt', direction: 'desc' },
      offset: 0,
      limit: 5,
    });
    expect(pct.total).toBe(0);
    expect(
      store.list({
        filter: { reviewed: true },
        sort: { field: 'capturedAt', direction: 'asc' },
        offset: 0,
        limit: 5,
      }).total,
    ).toBe(1);
    expect(
      store
        .list({
          filter: { patientId: 'P1', ear: 'left', statuses: ['done'] },
          sort: { field: 'capturedAt', direction: 'asc' },
          offset: 0,
          limit: 50,
        })
        .items.every((r) => r.patientId === 'P1' && r.ear === 'left' && r.status === 'done'),
    ).toBe(true);
    const day = store.list({
      filter: { from: '2026-11-02', to: '2026-11-02' },
      sort: { field: 'capturedAt', direction: 'asc' },
      offset: 0,
      limit: 50,
    });
    expect(day.total).toBe(6);
    expect(day.items.every((r) => r.capturedAt.startsWith('2026-11-02'))).toBe(true);
    // 12:00 UTC is 21:00 in Seoul: same day; at UTC-13 it is the previous day.
    expect(
      store
        .list({
          filter: { from: '2026-11-01', to: '2026-11-01', utcOffsetMinutes: -780 },
          sort: { field: 'capturedAt', direction: 'asc' },
          offset: 0,
          limit: 50,
        })
        .items.every((r) => r.capturedAt.startsWith('2026-11-02')),
    ).toBe(true);

    const counts = store.countsPerDay({});
    expect(counts.days).toHaveLength(5);
    expect(counts.days.reduce((a, d) => a + d.total, 0)).toBe(30);
    expect(counts.keys.slice(0, 3)).toEqual(['normal', 'aom', 'effusion']);
    expect(counts.keys).toContain('failed');
    expect(counts.keys).toContain('not_eardrum');
    const first = counts.days[0]!;
    expect(Object.values(first.counts).reduce((a, b) => a + b, 0)).toBe(first.total);
  });

  it('edits patient and ear with an audit row per change', () => {
    const { id } = store.insertImage(image(3, { patientId: null, ear: 'unknown', patientSource: 'none' }));
    store.updatePatient(id, 'H-0042', 'left');
    store.updatePatient(id, 'H-0042', 'right');
    expect(store.summary(id)).toMatchObject({ patientId: 'H-0042', ear: 'right' });
    const edits = db.prepare('SELECT field, old_value, new_value FROM image_edits ORDER BY id').all();
    expect(edits).toEqual([
      { field: 'patient_id', old_value: null, new_value: 'H-0042' },
      { field: 'ear', old_value: 'unknown', new_value: 'left' },
      { field: 'ear', old_value: 'left', new_value: 'right' },
    ]);
    expect(
      store.list({
        filter: { text: 'h-0042' },
        sort: { field: 'capturedAt', direction: 'asc' },
        offset: 0,
        limit: 5,
      }).total,
    ).toBe(1);
  });

  it('keeps settings valid and typed', () => {
    const s = new SettingsStore(db);
    // No language until someone chooses one: the UI then follows the browser or OS.
    expect(s.get().language).toBeNull();
    expect(s.update({ language: 'en', reviewerName: '김의사' })).toMatchObject({
      language: 'en',
      reviewerName: '김의사',
    });
    expect(() => s.update({ pollIntervalMs: 5 })).toThrow(/pollIntervalMs/);
    expect(s.get().pollIntervalMs).toBe(1000);
    db.prepare("UPDATE settings SET value = 'not json' WHERE key = 'language'").run();
    expect(s.get().language).toBeNull();
  });

  it('records every threshold change with who and when, append-only', () => {
    const s = new SettingsStore(db);
    s.update({ thresholds: { eardrum: 0.05 } }, 'Dr. Han');
    s.update({ reviewerName: 'x' }, 'Dr. Han');
    s.update({ thresholds: {} }, 'Dr. Yoon');
    const changes = s.changes();
    expect(
      changes.map(({ key, oldValue, newValue, changedBy }) => ({ key, oldValue, newValue, changedBy })),
    ).toEqual([
      { key: 'thresholds.eardrum', oldValue: 0.05, newValue: null, changedBy: 'Dr. Yoon' },
      { key: 'thresholds.eardrum', oldValue: null, newValue: 0.05, changedBy: 'Dr. Han' },
    ]);
    expect(Date.parse(changes[0]!.changedAt)).toBeGreaterThan(0);
    expect(() => db.prepare('DELETE FROM settings_changes').run()).toThrow(/append-only/);
    expect(() => db.prepare("UPDATE settings_changes SET changed_by = 'x'").run()).toThrow(/append-only/);
  });
});

it('backups are complete files even when a backup fails midway', async () => {
  const { db } = await open();
  const b = new Backups(db, path.join(dir, 'file-not-dir'));
  writeFileSync(path.join(dir, 'file-not-dir'), 'x');
  await expect(b.create('daily')).rejects.toBeTruthy();
  expect(existsSync(path.join(dir, 'file-not-dir'))).toBe(true);
  db.close();
});
