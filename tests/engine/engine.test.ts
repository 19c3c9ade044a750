import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeDiagnoser } from './helpers/fake-diagnoser.ts';
import { removeDir, syntheticJpeg, tempDir, waitFor } from './helpers/fs-helpers.ts';
import { startHarness, type Harness } from './helpers/harness.ts';

let h: Harness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

const list = (hh: Harness) =>
  hh.records.list({
    filter: {},
    sort: { field: 'ingestedAt', direction: 'asc' },
    offset: 0,
    limit: 500,
  }).items;

describe('engine with a deterministic diagnoser', () => {
  it('diagnoses new files once, copies them into the library and parses patient and ear', async () => {
    h = await startHarness();
    writeFileSync(path.join(h.watchDir, 'H100_L_20261101_101500.jpg'), await syntheticJpeg(1));
    writeFileSync(path.join(h.watchDir, 'random-name.jpg'), await syntheticJpeg(2));
    await h.settled(2);
    const rows = list(h);
    expect(rows).toHaveLength(2);
    const named = rows.find((r) => r.fileName.startsWith('H100'))!;
    expect(named).toMatchObject({ patientId: 'H100', ear: 'left', status: 'done', source: 'watch' });
    expect(rows.find((r) => r.fileName === 'random-name.jpg')).toMatchObject({
      patientId: null,
      ear: 'unknown',
    });
    const row = h.records.row(named.id)!;
    expect(existsSync(path.join(h.services.library.root, row.stored_path!))).toBe(true);
    expect(existsSync(path.join(h.services.library.root, row.thumb_path!))).toBe(true);
    // The library copy survives the otoscope deleting its file.
    rmSync(path.join(h.watchDir, 'H100_L_20261101_101500.jpg'));
    expect(await h.services.library.resolve(row.stored_path!)).not.toBeNull();
    const types = h.events.map((e) => e.type);
    expect(types.filter((t) => t === 'done')).toHaveLength(2);
    expect(types.indexOf('queued')).toBeLessThan(types.indexOf('processing'));
  });

  it('announces an idle status once the last image of a burst is done', async () => {
    h = await startHarness();
    writeFileSync(path.join(h.watchDir, 'one.jpg'), await syntheticJpeg(11));
    writeFileSync(path.join(h.watchDir, 'two.jpg'), await syntheticJpeg(12));
    await h.settled(2);
    await waitFor(() => {
      const last = h!.events.at(-1);
      return last?.type === 'status' && last.status.queued === 0 && last.status.processing === 0;
    }, 20_000);
    const lastDone = h.events.map((e) => e.type).lastIndexOf('done');
    expect(h.events.slice(lastDone + 1).some((e) => e.type === 'status')).toBe(true);
  });

  it('counts files still being written as waiting, before they are complete', async () => {
    h = await startHarness({ stabilityMs: 1500 });
    writeFileSync(path.join(h.watchDir, 'slow.jpg'), await syntheticJpeg(13));
    await waitFor(() => h!.events.some((e) => e.type === 'status' && e.status.queued === 1), 20_000);
    // Announced while the file was still in its stability window, before it was queued for the model.
    const firstWaiting = h.events.findIndex((e) => e.type === 'status' && e.status.queued === 1);
    const queued = h.events.findIndex((e) => e.type === 'queued');
    expect(queued === -1 || firstWaiting < queued).toBe(true);
    await h.settled(1);
  });

  it('never diagnoses the same bytes twice: a copy is a second source of the photo, a renamed file keeps its record', async () => {
    const diagnoser = new FakeDiagnoser();
    h = await startHarness({ diagnoser });
    const bytes = await syntheticJpeg(7);
    writeFileSync(path.join(h.watchDir, 'a.jpg'), bytes);
    await h.settled(1);
    writeFileSync(path.join(h.watchDir, 'copy of a.jpg'), bytes);
    let name = path.join(h.watchDir, 'a.jpg');
    for (let i = 0; i < 20; i++) {
      const next = path.join(h.watchDir, `storm-${i}.jpg`);
      renameSync(name, next);
      name = next;
    }
    await waitFor(() => h!.events.filter((e) => e.type === 'duplicate').length >= 2, 10_000);
    const readRows = () =>
      h!.services.db!.prepare('SELECT file_name, status, diagnosis_id FROM images ORDER BY id').all() as {
        file_name: string;
        status: string;
        diagnosis_id: number;
      }[];
    // The renamed file's record reaches the storm's last name once the watcher has told every rename: waited
    // for, not given a fixed pause that a busy machine may outlast.
    await waitFor(() => readRows().some((r) => r.file_name === 'storm-19.jpg'), 10_000).catch(
      () => undefined,
    );
    await h.services.engine.idle();
    expect(diagnoser.calls).toBe(1);
    expect(h.services.db!.prepare('SELECT count(*) FROM diagnoses').pluck().get()).toBe(1);
    const rows = readRows();
    expect(rows.map((r) => r.file_name)).toEqual(['storm-19.jpg', 'copy of a.jpg']);
    expect(new Set(rows.map((r) => r.diagnosis_id)).size).toBe(1);
    expect(rows.every((r) => r.status === 'done')).toBe(true);
  });

  it('ignores hidden, temporary and non-image files; a writer renaming a temp file is read once, complete', async () => {
    h = await startHarness();
    writeFileSync(path.join(h.watchDir, '.hidden.jpg'), await syntheticJpeg(1));
    writeFileSync(path.join(h.watchDir, 'notes.txt'), 'patient was calm');
    writeFileSync(path.join(h.watchDir, 'Thumbs.db'), 'x');
    const tmp = path.join(h.watchDir, 'capture.jpg.part');
    writeFileSync(tmp, (await syntheticJpeg(3)).subarray(0, 100));
    await new Promise((r) => setTimeout(r, 400));
    writeFileSync(tmp, await syntheticJpeg(3));
    renameSync(tmp, path.join(h.watchDir, 'capture.jpg'));
    await h.settled(1);
    await new Promise((r) => setTimeout(r, 400));
    expect(list(h).map((r) => [r.fileName, r.status])).toEqual([['capture.jpg', 'done']]);
  });

  it('records bad files as failed with a clear reason and keeps going', async () => {
    h = await startHarness();
    const png = await sharp({ create: { width: 40, height: 40, channels: 3, background: '#a33' } })
      .png()
      .toBuffer();
    const jpeg = await syntheticJpeg(11);
    writeFileSync(path.join(h.watchDir, 'empty.jpg'), '');
    writeFileSync(path.join(h.watchDir, 'text.jpg'), 'this is not an image');
    writeFileSync(path.join(h.watchDir, 'truncated.jpg'), jpeg.subarray(0, Math.floor(jpeg.length / 2)));
    writeFileSync(path.join(h.watchDir, 'jpeg-named.dat'), await syntheticJpeg(12));
    writeFileSync(path.join(h.watchDir, 'png-named.jpg'), png);
    writeFileSync(path.join(h.watchDir, 'fine.jpg'), await syntheticJpeg(13));
    await h.settled(6, 30_000);
    const by = Object.fromEntries(list(h).map((r) => [r.fileName, r]));
    expect(by['empty.jpg']!.failure).toEqual({
      code: 'image.empty',
      message: 'The file is empty (0 bytes).',
    });
    expect(by['text.jpg']!.failure?.code).toBe('image.not_image');
    expect(by['truncated.jpg']!.failure?.code).toBe('image.corrupt');
    expect(by['truncated.jpg']!.failure?.message).toMatch(/damaged or incomplete/);
    expect(by['jpeg-named.dat']!.failure).toMatchObject({ code: 'image.wrong_extension' });
    expect(by['jpeg-named.dat']!.failure!.message).toMatch(
      /JPEG image but is named "\.dat"; rename it to \.jpg/,
    );
    expect(by['png-named.jpg']!.status).toBe('done');
    expect(by['fine.jpg']!.status).toBe('done');
  });

  it('diagnoses the backlog at start, and a restart re-reads nothing already ingested', async () => {
    const watchDir = tempDir('watch');
    const dataDir = tempDir('data');
    for (let i = 0; i < 5; i++)
      writeFileSync(path.join(watchDir, `old-${i}.jpg`), await syntheticJpeg(20 + i));
    const first = new FakeDiagnoser();
    h = await startHarness({ watchDir, dataDir, diagnoser: first });
    await h.settled(5);
    expect(first.calls).toBe(5);
    await h.close();
    writeFileSync(path.join(watchDir, 'new.jpg'), await syntheticJpeg(30));
    const second = new FakeDiagnoser();
    h = await startHarness({ watchDir, dataDir, diagnoser: second });
    await h.settled(6);
    expect(second.calls).toBe(1);
    expect(h.events.filter((e) => e.type === 'duplicate')).toHaveLength(0);
    await h.close();
    removeDir(watchDir);
    removeDir(dataDir);
  });

  it('diagnoses records left pending by a crash from the library copy at the next start', async () => {
    const dataDir = tempDir('data');
    const watchDir = tempDir('watch');
    h = await startHarness({ dataDir, watchDir });
    writeFileSync(path.join(watchDir, 'x.jpg'), await syntheticJpeg(40));
    await h.settled(1);
    const id = list(h)[0]!.id;
    // Simulate a crash between insert and commit: back to pending, diagnosis gone.
    h.services.db!.exec('DROP TRIGGER diagnoses_append_only_d');
    h.services
      .db!.prepare('UPDATE images SET status = ?, diagnosis_id = NULL WHERE id = ?')
      .run('pending', id);
    h.services.db!.prepare('DELETE FROM diagnoses').run();
    await h.close();
    rmSync(path.join(watchDir, 'x.jpg')); // the otoscope software deleted its file meanwhile
    h = await startHarness({ dataDir, watchDir });
    await h.settled(1);
    expect(h.records.summary(id)!.status).toBe('done');
    await h.close();
    removeDir(dataDir);
    removeDir(watchDir);
  });

  it('watches sub-folders only when recursive, and never its own data folder', async () => {
    const watchDir = tempDir('watch');
    const dataDir = path.join(watchDir, 'app-data');
    mkdirSync(path.join(watchDir, 'sub'), { recursive: true });
    h = await startHarness({ watchDir, dataDir });
    writeFileSync(path.join(watchDir, 'sub', 'deep.jpg'), await syntheticJpeg(50));
    await h.settled(1);
    await h.services.updateSettings({ recursive: false });
    writeFileSync(path.join(watchDir, 'sub', 'deeper.jpg'), await syntheticJpeg(51));
    writeFileSync(path.join(watchDir, 'top.jpg'), await syntheticJpeg(52));
    await h.settled(2);
    await new Promise((r) => setTimeout(r, 500));
    expect(
      list(h)
        .map((r) => r.fileName)
        .sort(),
    ).toEqual(['deep.jpg', 'top.jpg']);
    await h.close();
    removeDir(watchDir);
  });

  it('reports a missing watch folder and starts watching once it appears', async () => {
    const parent = tempDir('watch');
    const watchDir = path.join(parent, 'share');
    const warnings: string[] = [];
    const logger = { info() {}, error() {}, warn: (m: string) => warnings.push(m) };
    h = await startHarness({ watchDir, logger });
    expect(h.services.engine.status()).toMatchObject({
      watching: false,
      error: { code: 'watch_dir_missing' },
    });
    // Said once in the log (a typo in --watch shows in the terminal), not at every look.
    await new Promise((r) => setTimeout(r, 4500));
    expect(warnings.filter((m) => m.includes(`${watchDir} does not exist`))).toHaveLength(1);
    mkdirSync(watchDir);
    await waitFor(() => h!.services.engine.status().watching, 10_000);
    writeFileSync(path.join(watchDir, 'late.jpg'), await syntheticJpeg(60));
    await h.settled(1);
    expect(h.services.engine.status().error).toBeNull();
    await h.close();
    removeDir(parent);
  });

  it.each([false, true])(
    'watches the folder afresh when it is removed and made again (a USB disk plugged back), polling: %s',
    async (usePolling) => {
      const parent = tempDir('watch');
      const watchDir = path.join(parent, 'usb');
      mkdirSync(watchDir);
      h = await startHarness({ watchDir });
      if (usePolling) await h.services.updateSettings({ usePolling: true, pollIntervalMs: 200 });
      writeFileSync(path.join(watchDir, 'before.jpg'), await syntheticJpeg(61));
      await h.settled(1);
      const gone = h.events.length;
      rmSync(watchDir, { recursive: true });
      await waitFor(() => h!.services.engine.status().error?.code === 'watch_dir_missing', 10_000);
      // The screens hear it: a status event says the folder is missing.
      expect(
        h.events.slice(gone).some((e) => 'status' in e && e.status.error?.code === 'watch_dir_missing'),
      ).toBe(true);
      mkdirSync(watchDir);
      writeFileSync(path.join(watchDir, 'after.jpg'), await syntheticJpeg(62));
      await h.settled(2);
      expect(
        list(h)
          .map((r) => r.fileName)
          .sort(),
      ).toEqual(['after.jpg', 'before.jpg']);
      expect(h.services.engine.status()).toMatchObject({ watching: true, error: null });
      await h.close();
      removeDir(parent);
    },
  );

  it('polls when asked (network shares send no events)', async () => {
    h = await startHarness();
    await h.services.updateSettings({ usePolling: true, pollIntervalMs: 200 });
    writeFileSync(path.join(h.watchDir, 'polled.jpg'), await syntheticJpeg(70));
    await h.settled(1);
    expect(list(h)[0]!.status).toBe('done');
  });

  it('puts hand uploads ahead of the queue and returns duplicates as such', async () => {
    // 250 ms a photo: the ten queued take seconds, so "ahead of them" does not depend on how fast the upload
    // itself is handled on a busy machine (with 30 ms the queue could drain while it was being stored).
    h = await startHarness({ diagnoser: new FakeDiagnoser({ delayMs: 250 }) });
    const bytes = await syntheticJpeg(99);
    for (let i = 0; i < 10; i++)
      writeFileSync(path.join(h.watchDir, `q${i}.jpg`), await syntheticJpeg(80 + i));
    await waitFor(() => h!.services.engine.status().queued > 3, 20_000);
    const r = await h.services.call('diagnose.upload', {
      fileName: 'C:\\Users\\doc\\upload.jpg',
      dataBase64: bytes.toString('base64'),
      patientId: 'U1',
      ear: 'right',
    });
    expect(r.ok).toBe(true);
    const v = (
      r as {
        value: {
          record: { record: { status: string; fileName: string; patientId: string } };
          duplicate: boolean;
        };
      }
    ).value;
    expect(v.duplicate).toBe(false);
    expect(v.record.record).toMatchObject({ status: 'done', fileName: 'upload.jpg', patientId: 'U1' });
    expect(h.records.counts().done).toBeLessThan(10);
    const again = await h.services.call('diagnose.upload', {
      fileName: 'x.jpg',
      dataBase64: bytes.toString('base64'),
    });
    expect(again).toMatchObject({ ok: true, value: { duplicate: true } });
    const bad = await h.services.call('diagnose.upload', { fileName: 'x.jpg', dataBase64: '!!!' });
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid_args' } });
    await h.settled(11);
  });

  it('saves nothing half-written when the disk is full, and retries once space is back', async () => {
    let full = true;
    h = await startHarness({
      libraryWrite: async (file, data) => {
        if (full) {
          writeFileSync(file, data.subarray(0, 10));
          throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
        }
        writeFileSync(file, data);
      },
    });
    writeFileSync(path.join(h.watchDir, 'big.jpg'), await syntheticJpeg(90));
    await waitFor(() => h!.events.find((e) => e.type === 'failed'), 10_000);
    const failed = h.events.find((e) => e.type === 'failed')!;
    expect(failed).toMatchObject({ error: { code: 'disk_full' }, record: null });
    expect((failed as { error: { message: string } }).error.message).toMatch(/disk is full/);
    expect(h.services.engine.status().error?.code).toBe('disk_full');
    expect(h.records.counts().total).toBe(0);
    expect(readdirSync(path.join(h.services.library.root, 'tmp'))).toEqual([]);
    const originals = path.join(h.services.library.root, 'originals');
    const files = existsSync(originals)
      ? readdirSync(originals, { recursive: true }).filter((f) => /\./.test(String(f)))
      : [];
    expect(files).toEqual([]);
    full = false;
    await h.settled(1, 15_000);
    expect(list(h)[0]!.status).toBe('done');
    expect(h.services.engine.status().error).toBeNull();
  });

  it('retries a failed record from its stored copy on request', async () => {
    const diagnoser = new FakeDiagnoser();
    h = await startHarness({ diagnoser });
    writeFileSync(path.join(h.watchDir, 'r.jpg'), await syntheticJpeg(95));
    await h.settled(1);
    const id = list(h)[0]!.id;
    expect(await h.services.call('records.retry', { id })).toMatchObject({
      ok: false,
      error: { code: 'invalid_args' },
    });
    h.records.markFailed(id, { code: 'internal', message: 'worker crashed' });
    h.services.db!.exec('DROP TRIGGER diagnoses_append_only_d');
    h.services.db!.prepare('UPDATE images SET diagnosis_id = NULL WHERE id = ?').run(id);
    h.services.db!.prepare('DELETE FROM diagnoses').run();
    expect(await h.services.call('records.retry', { id })).toMatchObject({
      ok: true,
      value: { status: 'pending' },
    });
    await h.settled(1);
    expect(h.records.summary(id)!.status).toBe('done');
    expect(diagnoser.calls).toBe(2);
  });
});

describe('capture time', () => {
  it('prefers EXIF, then a dated name (its mtime when the name has no time), then the mtime', async () => {
    h = await startHarness();
    const exif = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#345' } })
      .jpeg()
      .withExif({
        IFD0: { DateTime: '2025:03:04 05:06:07' },
        IFD2: { DateTimeOriginal: '2025:03:04 05:06:07' },
      })
      .toBuffer();
    writeFileSync(path.join(h.watchDir, 'exif.jpg'), exif);
    writeFileSync(path.join(h.watchDir, '7_L_20240102_030405.jpg'), await syntheticJpeg(301));
    writeFileSync(path.join(h.watchDir, '8_R_20240102.jpg'), await syntheticJpeg(302));
    writeFileSync(path.join(h.watchDir, 'plain.jpg'), await syntheticJpeg(303));
    await h.settled(4);
    const by = Object.fromEntries(list(h).map((r) => [r.fileName, r.capturedAt]));
    const offset = -new Date().getTimezoneOffset() * 60_000;
    expect(Date.parse(by['exif.jpg']!)).toBe(Date.UTC(2025, 2, 4, 5, 6, 7) - offset);
    expect(Date.parse(by['7_L_20240102_030405.jpg']!)).toBe(Date.UTC(2024, 0, 2, 3, 4, 5) - offset);
    expect(Date.parse(by['8_R_20240102.jpg']!)).toBe(Date.UTC(2024, 0, 2) - offset);
    expect(Math.abs(Date.parse(by['plain.jpg']!) - Date.now())).toBeLessThan(60_000);
  });
});
