import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { toEngineError } from '../util/errors.ts';
import { isInside } from '../util/safe-path.ts';
import { PRIVATE_LIBRARY_MODES, ensureLibraryDir, setMode, type LibraryModes } from './library-modes.ts';

/**
 * Copies one library file (a path relative to the library, as the database holds it) from one library into
 * another: into the target's tmp/ first, then renamed into place, so the target never holds half a photo.
 * Library names are content-addressed, so a file already there is the same file and is left alone.
 * 'missing': the source library lacks it (the record is still worth copying; the caller reports it).
 * `modes`: the target's (a library shared by the rooms is open to their group, see library-modes.ts).
 */
export async function copyLibraryFile(
  fromRoot: string,
  toRoot: string,
  rel: string,
  modes: LibraryModes = PRIVATE_LIBRARY_MODES,
): Promise<'copied' | 'present' | 'missing'> {
  const from = path.resolve(fromRoot, rel);
  const to = path.resolve(toRoot, rel);
  // Paths come from a database file someone hands us: none may leave either library.
  if (path.isAbsolute(rel) || !isInside(path.resolve(fromRoot), from) || !isInside(path.resolve(toRoot), to))
    return 'missing';
  if (await exists(to)) return 'present';
  if (!(await exists(from))) return 'missing';
  const tmpDir = path.join(toRoot, 'tmp');
  const tmp = path.join(tmpDir, `${randomBytes(8).toString('hex')}.part`);
  try {
    await ensureLibraryDir(toRoot, tmpDir, modes);
    await ensureLibraryDir(toRoot, path.dirname(to), modes);
    await copyFile(from, tmp, constants.COPYFILE_EXCL);
    await setMode(tmp, modes.file);
    await rename(tmp, to);
    return 'copied';
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw toEngineError(err, `Copying ${rel} into the library ${toRoot}`);
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}
