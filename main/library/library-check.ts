import { randomBytes } from 'node:crypto';
import { open, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DatabaseTestResult } from '../../common/contract.ts';
import { LibraryErrorCodes } from '../../common/contract.ts';
import { EngineError } from '../util/errors.ts';
import { isInside } from '../util/safe-path.ts';
import { SHARED_LIBRARY_MODES } from './library-modes.ts';

type LibraryCheck = NonNullable<DatabaseTestResult['library']>;

const DENIED = new Set(['EACCES', 'EPERM']);
const codeOf = (err: unknown) => (err as NodeJS.ErrnoException).code ?? '';

/**
 * "Test connection"'s look at the shared library folder, before it is saved for the next start (which would
 * otherwise stop on it, or worse, fill the wrong folder): it is a folder; this account can create and
 * remove a file in it (a probe, as a write of a photo would); and when the database already has photos,
 * one of them is there and readable. A room that mounted another share, or none (an empty mount point),
 * finds none of the clinic's photos, and is told so rather than starting on it.
 *
 * `knownPhotos`: some library paths the database holds (the newest photos), empty when it has none. Several,
 * because a record migrated without its file (migrate reports those) must not condemn the right folder.
 */
export async function checkLibraryFolder(dir: string, knownPhotos: readonly string[]): Promise<LibraryCheck> {
  const root = path.resolve(dir);
  const st = await stat(root).catch(() => null);
  if (!st?.isDirectory())
    throw new EngineError(
      LibraryErrorCodes.missing,
      `The library folder ${root} is missing or is not a folder: is the clinic's share mounted there?`,
    );
  const probe = path.join(root, `.eardrum-probe-${randomBytes(6).toString('hex')}`);
  try {
    await writeFile(probe, 'eardrum', { flag: 'wx', mode: SHARED_LIBRARY_MODES.file });
    await rm(probe);
  } catch (err) {
    await rm(probe, { force: true }).catch(() => undefined);
    throw new EngineError(
      LibraryErrorCodes.notWritable,
      `This account cannot write in the library folder ${root} (${codeOf(err) || (err as Error).message}): ` +
        "ask the administrator to add it to the library's group, or check that the share is mounted read-write.",
      { cause: err },
    );
  }
  if (knownPhotos.length === 0) return { dir: root, photos: 'none_yet' };
  let denied: string | null = null;
  for (const rel of knownPhotos) {
    const file = path.resolve(root, rel);
    // Paths come from the database; none may lead the check outside the folder.
    if (path.isAbsolute(rel) || !isInside(root, file)) continue;
    try {
      const fh = await open(file, 'r');
      try {
        await fh.read(Buffer.alloc(1), 0, 1, 0);
      } finally {
        await fh.close();
      }
      return { dir: root, photos: 'found' };
    } catch (err) {
      if (DENIED.has(codeOf(err))) denied ??= rel;
    }
  }
  if (denied)
    throw new EngineError(
      LibraryErrorCodes.notReadable,
      `The library folder ${root} holds the clinic's photos, but this account may not read them (${denied}): ` +
        "ask the administrator to add it to the library's group.",
    );
  throw new EngineError(
    LibraryErrorCodes.wrongShare,
    `The library folder ${root} does not hold the photos this database already has (such as ${knownPhotos[0]}): ` +
      "it is not the clinic's shared library. Mount the share the other rooms use there, or choose that folder.",
  );
}
