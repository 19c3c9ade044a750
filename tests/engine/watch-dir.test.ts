import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, syntheticJpeg, tempDir } from './helpers/fs-helpers.ts';
import { ownFolders } from '../../main/ingest/stages/watch.ts';
import { startHarness, type Harness } from './helpers/harness.ts';

let h: Harness;
let other: string;
beforeAll(async () => {
  h = await startHarness();
  other = tempDir('other-inbox');
});
afterAll(async () => {
  await h?.close();
  removeDir(other);
});

describe('the watched folder, as the renderer may set it', () => {
  it('refuses relative paths, missing folders, files, disk roots and NUL bytes with a clear 400', async () => {
    writeFileSync(path.join(other, 'a-file.txt'), 'x');
    const cases: [string, RegExp][] = [
      ['inbox', /absolute path/],
      ['./inbox', /absolute path/],
      ['../../etc', /absolute path/],
      [path.join(other, 'missing'), /does not exist/],
      [path.join(other, 'a-file.txt'), /not a folder/],
      [path.parse(process.cwd()).root, /root of a disk/],
      [`${other}\u0000x`, /not a valid path/],
    ];
    for (const [watchDir, why] of cases) {
      const r = await h.services.call('settings.update', { watchDir });
      expect(r, watchDir).toMatchObject({ ok: false, error: { code: 'invalid_args' } });
      expect((r as { error: { message: string } }).error.message).toMatch(why);
    }
    expect((await h.services.store.getSettings()).watchDir).toBe(h.watchDir);
  });

  it('accepts an absolute, existing, readable folder and watches it', async () => {
    mkdirSync(path.join(other, 'sub'));
    const r = await h.services.call('settings.update', { watchDir: path.join(other, 'sub', '..') });
    expect(r).toMatchObject({ ok: true, value: { watchDir: other } });
    writeFileSync(path.join(other, 'W1_L.jpg'), await syntheticJpeg(77));
    await h.settled(1);
    expect(
      h.records.list({
        filter: {},
        sort: { field: 'capturedAt', direction: 'desc' },
        offset: 0,
        limit: 5,
      }).items[0],
    ).toMatchObject({ patientId: 'W1' });
  });

  it('watches an inbox inside the data folder (the README trial), never the data folder or its own folders', async () => {
    const data = path.resolve('/srv/eardrum-data');
    expect(ownFolders(data, path.join(data, 'inbox'))).toEqual([]);
    expect(ownFolders(data, data)).toEqual([data]);
    expect(ownFolders(data, path.join(data, 'library', 'originals'))).toEqual([data]);
    expect(ownFolders(data, '/srv')).toEqual([data]);
    expect(ownFolders(data, '/srv/eardrum-data-inbox')).toEqual([data]);

    const inbox = path.join(h.dataDir, 'inbox');
    mkdirSync(inbox);
    const r = await h.services.call('settings.update', { watchDir: inbox });
    expect(r).toMatchObject({ ok: true });
    writeFileSync(path.join(inbox, 'W2_R.jpg'), await syntheticJpeg(78));
    await h.settled(2);
    const items = h.records.list({
      filter: {},
      sort: { field: 'capturedAt', direction: 'desc' },
      offset: 0,
      limit: 5,
    }).items;
    expect(items.map((i) => i.patientId)).toContain('W2');
  });
});
