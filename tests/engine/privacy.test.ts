import { chmodSync, lstatSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeDir, syntheticJpeg, tempDir } from './helpers/fs-helpers.ts';
import { startHarness } from './helpers/harness.ts';

/** Every entry under `root` (root included) with its permission bits. */
function modes(root: string): { path: string; dir: boolean; mode: number }[] {
  const out = [{ path: root, dir: true, mode: lstatSync(root).mode & 0o777 }];
  const visit = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = path.join(dir, name);
      const st = lstatSync(p);
      out.push({ path: path.relative(root, p), dir: st.isDirectory(), mode: st.mode & 0o777 });
      if (st.isDirectory()) visit(p);
    }
  };
  visit(root);
  return out;
}

const notPrivate = (root: string) =>
  modes(root)
    .filter((e) => e.mode !== (e.dir ? 0o700 : 0o600))
    .map((e) => `${e.path} ${e.mode.toString(8)}`);

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

describe.skipIf(process.platform === 'win32')('data folder privacy', () => {
  it('creates the data folder 0700 and the database, backups, originals, thumbnails and overlays 0600', async () => {
    const parent = tempDir('private');
    dirs.push(parent);
    const h = await startHarness({ dataDir: path.join(parent, 'data') });
    try {
      // Several photos, so at least one passes the fake model's gate and gets a heatmap overlay.
      for (let i = 0; i < 6; i++) writeFileSync(path.join(h.watchDir, `P${i}_L.jpg`), await syntheticJpeg(i));
      await h.settled(6);
      const all = modes(h.dataDir).map((e) => e.path);
      for (const expected of ['eardrum.sqlite', 'eardrum.sqlite-wal', 'engine.lock'])
        expect(all).toContain(expected);
      for (const kind of ['originals', 'thumbs', 'overlays', 'backups'])
        expect(all.some((p) => p.includes(`${kind}${path.sep}`))).toBe(true);
      expect(notPrivate(h.dataDir)).toEqual([]);
    } finally {
      await h.close();
    }
  });

  it('makes an existing open data folder (0755 folders, 0644 files) private at start', async () => {
    const parent = tempDir('private-old');
    dirs.push(parent);
    const dataDir = path.join(parent, 'data');
    const first = await startHarness({ dataDir });
    writeFileSync(path.join(first.watchDir, 'A1_R.jpg'), await syntheticJpeg(42));
    await first.settled(1);
    await first.close();
    // As an older version left it.
    for (const e of modes(dataDir)) chmodSync(path.resolve(dataDir, e.path), e.dir ? 0o755 : 0o644);
    expect(notPrivate(dataDir).length).toBeGreaterThan(5);
    const second = await startHarness({ dataDir });
    try {
      expect(notPrivate(dataDir)).toEqual([]);
    } finally {
      await second.close();
    }
  });
});
