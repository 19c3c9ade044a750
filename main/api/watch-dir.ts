import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { ErrorCodes } from '../../common/contract.ts';
import { EngineError } from '../util/errors.ts';

/**
 * The watched folder as the renderer may set it: the folder dialog's answer, or an absolute path to a folder
 * that exists and this account can read. A relative path would resolve against whatever the working folder
 * happens to be, and a file system root would have the engine read the whole disk. Empty: stop watching.
 */
export function checkWatchDirFromUi(dir: string): string {
  if (dir === '') return dir;
  const refuse = (why: string) => {
    throw new EngineError(ErrorCodes.invalidArgs, `The watched folder "${dir.slice(0, 300)}" ${why}`);
  };
  if (dir.includes('\0')) refuse('is not a valid path.');
  if (!path.isAbsolute(dir)) refuse('must be an absolute path (choose it with the folder dialog).');
  const abs = path.resolve(dir);
  if (path.parse(abs).root === abs)
    refuse('is the root of a disk; choose the folder the otoscope saves into.');
  let isDir = false;
  try {
    isDir = statSync(abs).isDirectory();
  } catch {
    refuse('does not exist.');
  }
  if (!isDir) refuse('is not a folder.');
  try {
    accessSync(abs, constants.R_OK | constants.X_OK);
  } catch {
    refuse('cannot be read by this account.');
  }
  return abs;
}
