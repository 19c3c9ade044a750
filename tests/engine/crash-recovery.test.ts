/**
 * The engine process killed with SIGKILL in the middle of a burst, then restarted: the backlog completes,
 * nothing is diagnosed twice and the database passes its integrity check. Runs the real `eardrum watch`
 * command with the shipped model as a child process.
 */
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { integrityCheck } from '../../main/store/database.ts';
import { removeDir, repoRoot, tempDir, waitFor } from './helpers/fs-helpers.ts';
import { distinctDatasetImages } from './helpers/real-model.ts';

const watchDir = tempDir('crash-watch');
const dataDir = tempDir('crash-data');
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  removeDir(watchDir);
  removeDir(dataDir);
});

function eardrum(args: string[]): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'eardrum.mjs'), ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, output: () => out, exited };
}

function count(sql: string): number {
  const db = new Database(path.join(dataDir, 'eardrum.sqlite'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).pluck().get() as number;
  } finally {
    db.close();
  }
}

it('completes the backlog after SIGKILL mid-burst, with no duplicates and a sound database', async () => {
  const images = distinctDatasetImages(350);
  const first = images.slice(0, 300);
  const later = images.slice(300);

  const run1 = eardrum(['watch', watchDir, '--data-dir', dataDir]);
  await waitFor(() => /watching /.test(run1.output()) || run1.child.exitCode !== null, 120_000, 100);
  expect(run1.child.exitCode, run1.output()).toBeNull();
  await Promise.all(first.map((img, i) => copyFile(img.file, path.join(watchDir, `burst-${i}.jpg`))));
  await waitFor(
    () => existsSync(path.join(dataDir, 'eardrum.sqlite')) && count('SELECT count(*) FROM diagnoses') >= 40,
    120_000,
    50,
  );
  run1.child.kill('SIGKILL');
  expect(await run1.exited).toBeNull();
  const diagnosedAtKill = count('SELECT count(*) FROM diagnoses');
  expect(diagnosedAtKill).toBeLessThan(300);
  // The killed process could not remove its lock; the next one must take it over.
  expect(existsSync(path.join(dataDir, 'engine.lock'))).toBe(true);

  // More captures arrive while the engine is down, one of them a copy of an image already seen.
  for (const [i, img] of later.entries()) copyFileSync(img.file, path.join(watchDir, `while-down-${i}.jpg`));
  copyFileSync(first[0]!.file, path.join(watchDir, 'same-as-burst-0.jpg'));

  const run2 = eardrum(['watch', watchDir, '--data-dir', dataDir, '--once']);
  expect(await run2.exited, run2.output()).toBe(0);

  const db = new Database(path.join(dataDir, 'eardrum.sqlite'), { readonly: true });
  try {
    expect(integrityCheck(db)).toEqual(['ok']);
    expect(db.pragma('foreign_key_check')).toEqual([]);
    // 350 photos, plus the copy under another name as a second record of burst-0's photo.
    const statuses = db.prepare('SELECT status, count(*) AS n FROM images GROUP BY status').all();
    expect(statuses).toEqual([{ status: 'done', n: 351 }]);
    expect(
      db
        .prepare(
          "SELECT count(*) FROM images WHERE file_name = 'same-as-burst-0.jpg' AND primary_id IS NOT NULL",
        )
        .pluck()
        .get(),
    ).toBe(1);
    expect(new Set(db.prepare('SELECT sha256 FROM images').pluck().all())).toEqual(
      new Set(images.map((i) => i.sha256)),
    );
    expect(db.prepare('SELECT count(*) FROM diagnoses').pluck().get()).toBe(350);
    expect(db.prepare('SELECT count(DISTINCT image_id) FROM diagnoses').pluck().get()).toBe(350);
  } finally {
    db.close();
  }
  expect(readdirSync(path.join(dataDir, 'library', 'tmp'))).toEqual([]);
  expect(existsSync(path.join(dataDir, 'engine.lock'))).toBe(false);
  expect(run2.output()).toMatch(/stopped: \d+ diagnosed, 0 failed/);
}, 300_000);
