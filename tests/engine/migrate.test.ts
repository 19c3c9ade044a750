import { copyFileSync, existsSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type pg from 'pg';
import { afterAll, expect, it, vi } from 'vitest';
import { run as migrate } from '../../main/cli/migrate.ts';
import { workstationName } from '../../main/paths.ts';
import { createPool } from '../../main/store/pg-pool.ts';
import { startHarness, type Harness } from './helpers/harness.ts';
import { removeDir, syntheticJpeg, tempDir } from './helpers/fs-helpers.ts';
import { describePostgres, postgresPerFile } from './helpers/postgres-per-file.ts';

/** `eardrum migrate` in this process, with what it prints. */
async function runMigrate(args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => lines.push(a.join(' ')));
  const warn = vi.spyOn(console, 'warn').mockImplementation((...a: unknown[]) => lines.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => lines.push(a.join(' ')));
  try {
    const code = await migrate(args);
    return { code, out: lines.join('\n') };
  } finally {
    log.mockRestore();
    warn.mockRestore();
    error.mockRestore();
  }
}

/** One workstation's history made by the real engine and store (the deterministic diagnoser as the model). */
async function roomHistory(photos: Record<string, Buffer>): Promise<Harness> {
  // A data folder of our own: the harness removes the ones it makes when it closes.
  const h = await startHarness({ dataDir: tempDir('room') });
  for (const [name, bytes] of Object.entries(photos)) writeFileSync(path.join(h.watchDir, name), bytes);
  await h.settled(Object.keys(photos).length);
  return h;
}

const server = postgresPerFile('clinic');
const dirs: string[] = [];
afterAll(() => {
  dirs.forEach(removeDir);
});

/** Every table's rows in a stable order, without the target's own ids. */
async function snapshot(pool: pg.Pool) {
  const q = async (sql: string) => (await pool.query(sql)).rows;
  return {
    images: await q(
      `SELECT sha256, file_name, original_path, captured_at, ingested_at, status, patient_id, ear, gate,
         model_label, reviewed_label, review_count, last_reviewer, last_reviewed_at, effective_label, abnormal,
         stored_path IS NOT NULL AS stored, primary_id IS NOT NULL AS shared
       FROM images ORDER BY ingested_at, original_path`,
    ),
    diagnoses: await q(
      `SELECT model_id, model_version, label, created_at FROM diagnoses
         ORDER BY created_at, coalesce(label, ''), model_id, model_version`,
    ),
    reviews: await q(
      `SELECT i.original_path, r.action, r.label, r.note, r.reviewer, r.created_at FROM reviews r
       JOIN images i ON i.id = r.image_id ORDER BY r.created_at, i.original_path, r.id`,
    ),
    edits: await q('SELECT field, old_value, new_value, created_at FROM image_edits ORDER BY created_at, id'),
    settingsChanges: await q(
      `SELECT key, old_value, new_value, changed_by, changed_at FROM settings_changes
       ORDER BY changed_at, key, old_value IS NULL, old_value, new_value IS NULL, new_value, changed_by`,
    ),
    sources: await q('SELECT path, size, mtime_ms FROM source_files ORDER BY path'),
  };
}

describePostgres('eardrum migrate', () => {
  it('copies a workstation history with original times, reviews and images, and a rerun adds nothing', async () => {
    const shared = await syntheticJpeg(41);
    const room1 = await roomHistory({
      'P1_L_20261101.jpg': await syntheticJpeg(40),
      'P2_R_20261102.jpg': shared,
      // The same bytes under another name: a record of its own sharing the photo.
      'P3_L_20261103.jpg': shared,
      'empty.jpg': Buffer.alloc(0),
    });
    const library = tempDir('shared-library');
    dirs.push(library, room1.dataDir);
    const sourceFile = path.join(room1.dataDir, 'eardrum.sqlite');
    try {
      const page = await room1.services.store.list({
        filter: {},
        sort: { field: 'fileName', direction: 'asc' },
        offset: 0,
        limit: 10,
      });
      const byName = new Map(page.items.map((r) => [r.fileName, r.id]));
      const call = async (channel: string, args: unknown) =>
        expect(await room1.services.call(channel, args)).toMatchObject({ ok: true });
      await call('reviews.add', {
        recordId: byName.get('P1_L_20261101.jpg'),
        action: 'confirm',
        note: 'looks right',
        reviewer: 'dr kim',
      });
      await call('reviews.add', {
        recordId: byName.get('P1_L_20261101.jpg'),
        action: 'override',
        label: 'effusion',
        note: 'fluid behind',
        reviewer: 'dr lee',
      });
      await call('reviews.add', {
        recordId: byName.get('P3_L_20261103.jpg'),
        action: 'override',
        label: 'aom',
        note: '',
        reviewer: 'dr kim',
      });
      await call('records.updatePatient', {
        id: byName.get('P2_R_20261102.jpg'),
        patientId: 'P9',
        ear: 'left',
      });
      await call('settings.changeThreshold', { name: 'eardrum', value: 0.4, changedBy: 'dr kim' });
      await call('settings.update', { fileNamePattern: 'room1_{patient}_{ear}', clinicName: 'Ear Clinic' });
    } finally {
      await room1.close();
    }

    const pwFile = server.passwordFile;
    const args = [
      '--from',
      `sqlite:${sourceFile}`,
      '--to',
      server.url('clinic'),
      '--db-password-file',
      pwFile,
    ];
    const first = await runMigrate([...args, '--library', library]);
    expect(first.out).toMatch(/4 \/ 4 records \(4 new, 0 already there\)/);
    expect(first.code).toBe(0);

    const pool = createPool({ url: server.url('clinic'), passwordFile: pwFile });
    try {
      const source = new Database(sourceFile, { readonly: true });
      const srcImages = source
        .prepare('SELECT * FROM images ORDER BY ingested_at, original_path')
        .all() as Record<string, unknown>[];
      const srcReviews = source
        .prepare(
          `SELECT i.original_path, r.action, r.label, r.note, r.reviewer, r.created_at FROM reviews r
             JOIN images i ON i.id = r.image_id ORDER BY r.created_at, i.original_path, r.id`,
        )
        .all();
      const srcChanges = source
        .prepare(
          `SELECT key, old_value, new_value, changed_by, changed_at FROM settings_changes
           ORDER BY changed_at, key, old_value IS NULL, old_value, new_value IS NULL, new_value, changed_by`,
        )
        .all();
      const srcDiagnoses = source
        .prepare(
          `SELECT model_id, model_version, label, created_at FROM diagnoses
         ORDER BY created_at, coalesce(label, ''), model_id, model_version`,
        )
        .all();
      source.close();

      const after1 = await snapshot(pool);
      // Records keep their times, patients, answers and board columns; reviews their authors and times.
      expect(after1.images).toEqual(
        srcImages.map((r) => ({
          sha256: r.sha256,
          file_name: r.file_name,
          original_path: r.original_path,
          captured_at: r.captured_at,
          ingested_at: r.ingested_at,
          status: r.status,
          patient_id: r.patient_id,
          ear: r.ear,
          gate: r.gate,
          model_label: r.model_label,
          reviewed_label: r.reviewed_label,
          review_count: r.review_count,
          last_reviewer: r.last_reviewer,
          last_reviewed_at: r.last_reviewed_at,
          effective_label: r.effective_label,
          abnormal: r.abnormal,
          stored: r.stored_path !== null,
          shared: r.primary_id !== null,
        })),
      );
      expect(after1.images.map((r) => r.status).sort()).toEqual(['done', 'done', 'done', 'failed']);
      expect(after1.reviews).toEqual(srcReviews);
      expect(after1.reviews.map((r) => r.reviewer)).toEqual(['dr kim', 'dr lee', 'dr kim']);
      expect(after1.diagnoses).toEqual(srcDiagnoses);
      expect(after1.diagnoses).toHaveLength(2);
      expect(after1.settingsChanges).toEqual(srcChanges);
      // The room's own settings are kept for it alone; the clinic's become everyone's.
      const ownSettings = async (workstation: string) =>
        Object.fromEntries(
          (
            await pool.query<{ key: string; value: string }>(
              'SELECT key, value FROM workstation_settings WHERE workstation = $1',
              [workstation],
            )
          ).rows.map((r) => [r.key, JSON.parse(r.value) as unknown]),
        );
      const room1Name = workstationName(room1.dataDir);
      expect(first.out).toContain(`kept as ${room1Name}'s`);
      expect(await ownSettings(room1Name)).toMatchObject({
        watchDir: room1.watchDir,
        fileNamePattern: 'room1_{patient}_{ear}',
      });
      const clinic = (await pool.query<{ key: string }>('SELECT key FROM settings ORDER BY key')).rows;
      expect(clinic.map((r) => r.key)).toEqual(['clinicName', 'thresholds']);
      expect(after1.edits.map((e) => [e.field, e.new_value])).toEqual(
        expect.arrayContaining([
          ['patient_id', 'P9'],
          ['ear', 'left'],
        ]),
      );
      // Photos, thumbnails and heatmaps are in the shared library under the names the records hold.
      const paths = (
        await pool.query<{ p: string }>(
          `SELECT DISTINCT unnest(ARRAY[stored_path, thumb_path, overlay_path]) AS p FROM images`,
        )
      ).rows
        .map((r) => r.p)
        .filter(Boolean);
      expect(paths.length).toBeGreaterThanOrEqual(6);
      for (const p of paths) expect(existsSync(path.join(library, p))).toBe(true);
      // Open to the rooms' group, as every room's account reads them (shared-library-modes.test.ts).
      if (process.platform !== 'win32')
        for (const p of paths) expect(statSync(path.join(library, p)).mode & 0o777).toBe(0o660);

      // Rerun: everything is found, nothing is added or changed.
      const second = await runMigrate([...args, '--library', library]);
      expect(second.code).toBe(0);
      expect(second.out).toMatch(/4 \/ 4 records \(0 new, 4 already there\)/);
      expect(second.out).toMatch(/0 diagnoses, 0 reviews added; 0 image files copied/);
      expect(await snapshot(pool)).toEqual(after1);

      // A second room with one photo the first room stored already: its record joins that photo.
      const room2 = await roomHistory({ 'Q1_R.jpg': shared, 'Q2_L.jpg': await syntheticJpeg(42) });
      dirs.push(room2.dataDir);
      await room2.close();
      const third = await runMigrate([
        '--from',
        `sqlite:${path.join(room2.dataDir, 'eardrum.sqlite')}`,
        '--to',
        server.url('clinic'),
        '--db-password-file',
        pwFile,
        '--library',
        library,
      ]);
      expect(third.code).toBe(0);
      expect(third.out).toMatch(/2 new \(1 of them joined a photo already stored by another room\)/);
      const copies = await pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM images WHERE sha256 = $1 AND primary_id IS NULL',
        [after1.images.find((r) => r.file_name === 'P2_R_20261102.jpg')!.sha256],
      );
      expect(copies.rows[0]!.n).toBe(1);
      const q1 = (await pool.query("SELECT status, diagnosis_id FROM images WHERE file_name = 'Q1_R.jpg'"))
        .rows[0] as { status: string; diagnosis_id: number | null };
      expect(q1.status).toBe('done');
      expect(q1.diagnosis_id).not.toBeNull();
      expect((await snapshot(pool)).images).toHaveLength(6);
      // Room 2's folder is its own; room 1's stays; the clinic's name is still room 1's choice.
      expect((await ownSettings(workstationName(room2.dataDir))).watchDir).toBe(room2.watchDir);
      expect((await ownSettings(room1Name)).watchDir).toBe(room1.watchDir);
      expect((await pool.query("SELECT value FROM settings WHERE key = 'clinicName'")).rows).toEqual([
        { value: '"Ear Clinic"' },
      ]);
    } finally {
      await pool.end();
    }
  }, 180_000);

  it('says clearly what is wrong: missing file, not a URL, wrong password, a schema too new', async () => {
    const dir = tempDir('migrate-errors');
    dirs.push(dir);
    const url = server.url('clinic');
    const missing = await runMigrate(['--from', `sqlite:${dir}/nope.sqlite`, '--to', url, '--data-dir', dir]);
    expect(missing.code).toBe(1);
    expect(missing.out).toContain(`There is no workstation database at ${dir}/nope.sqlite`);

    const notUrl = await runMigrate([
      '--from',
      'sqlite:x.sqlite',
      '--to',
      'mysql://db/clinic',
      '--data-dir',
      dir,
    ]);
    expect(notUrl.code).toBe(2);
    expect(notUrl.out).toContain('--to must be a postgres://');

    const h = await startHarness({ dataDir: tempDir('room') });
    dirs.push(h.dataDir);
    await h.close();
    const file = path.join(h.dataDir, 'eardrum.sqlite');
    const badPw = path.join(dir, 'wrong');
    writeFileSync(badPw, 'not-the-password\n');
    const wrong = await runMigrate([
      '--from',
      file,
      '--to',
      url,
      '--db-password-file',
      badPw,
      '--data-dir',
      dir,
    ]);
    expect(wrong.code).toBe(1);
    expect(wrong.out).toContain('refused the password for "eardrum"');
    expect(wrong.out).not.toContain('not-the-password');

    const newer = path.join(dir, 'newer.sqlite');
    copyFileSync(file, newer);
    const db = new Database(newer);
    db.pragma('user_version = 999');
    db.close();
    const tooNew = await runMigrate([
      '--from',
      newer,
      '--to',
      url,
      '--db-password-file',
      server.passwordFile,
      '--data-dir',
      dir,
    ]);
    expect(tooNew.code).toBe(1);
    expect(tooNew.out).toMatch(/schema version 999, made by a newer Eardrum Workstation/);

    server.createDatabase('future');
    const future = createPool({ url: server.url('future'), passwordFile: server.passwordFile });
    await future.query(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,
        checksum TEXT NOT NULL, applied_at TEXT NOT NULL)`);
    await future.query("INSERT INTO schema_migrations VALUES (999, 'later', 'x', 'now')");
    await future.end();
    const pgTooNew = await runMigrate([
      '--from',
      file,
      '--to',
      server.url('future'),
      '--db-password-file',
      server.passwordFile,
      '--data-dir',
      dir,
    ]);
    expect(pgTooNew.code).toBe(1);
    expect(pgTooNew.out).toMatch(/schema 999, newer than this version knows/);
  }, 120_000);
});
