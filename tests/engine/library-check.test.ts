/**
 * "Test connection"'s look at the shared library folder, on real folders and without a server: missing or
 * not a folder, not writable (as an ordinary account: root writes anywhere; shared-library-modes.test.ts
 * covers it under other accounts), the database's photos found or not (another share mounted there), and
 * paths from the database that would leave the folder never followed. The probe leaves nothing behind.
 */
import { chmodSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkLibraryFolder } from '../../main/library/library-check.ts';
import { removeDir, tempDir } from './helpers/fs-helpers.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));
const folder = () => {
  const d = tempDir('lib-check');
  dirs.push(d);
  return d;
};
const PHOTO = 'originals/ab/ab12.jpg';
const failure = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: { code: string; message: string }) => e,
  );

describe('the library folder check', () => {
  it('tells a missing folder and a file from a folder', async () => {
    const parent = folder();
    writeFileSync(path.join(parent, 'file'), 'x');
    for (const dir of [path.join(parent, 'not-mounted'), path.join(parent, 'file')])
      expect(await failure(checkLibraryFolder(dir, []))).toMatchObject({
        code: 'library.missing',
        message: expect.stringContaining(`${dir} is missing or is not a folder`),
      });
  });

  it('accepts an empty folder while the database has no photos, and leaves no probe behind', async () => {
    const dir = folder();
    expect(await checkLibraryFolder(dir, [])).toEqual({ dir, photos: 'none_yet' });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('finds one of the database’s photos, and says plainly when none is there (the wrong share)', async () => {
    const dir = folder();
    mkdirSync(path.join(dir, 'originals/ab'), { recursive: true });
    writeFileSync(path.join(dir, PHOTO), 'jpeg');
    // The newest record's file may be missing (migrated without it): one found is enough.
    expect(await checkLibraryFolder(dir, ['originals/cd/cd34.jpg', PHOTO])).toEqual({ dir, photos: 'found' });
    const other = path.join(folder(), 'library');
    mkdirSync(other);
    expect(await failure(checkLibraryFolder(other, [PHOTO]))).toMatchObject({
      code: 'library.wrong_share',
      message: expect.stringMatching(
        /does not hold the photos this database already has \(such as originals/,
      ),
    });
    // A path leading outside the folder is not looked at, even where a file waits there.
    writeFileSync(path.join(path.dirname(other), 'outside.jpg'), 'x');
    expect(await failure(checkLibraryFolder(other, ['../outside.jpg', '/etc/hostname']))).toMatchObject({
      code: 'library.wrong_share',
    });
  });

  it.skipIf(process.platform === 'win32' || process.getuid?.() === 0)(
    'says when this account cannot write there',
    async () => {
      const dir = folder();
      chmodSync(dir, 0o500);
      try {
        expect(await failure(checkLibraryFolder(dir, []))).toMatchObject({
          code: 'library.not_writable',
          message: expect.stringContaining('cannot write in the library folder'),
        });
      } finally {
        chmodSync(dir, 0o700);
      }
    },
  );
});
