import { chmodSync, closeSync, lstatSync, mkdirSync, openSync, readdirSync, statSync } from 'node:fs';
import { chmod } from 'node:fs/promises';
import path from 'node:path';

/**
 * Patient photos and diagnoses are readable by their owner only: the data folder and every folder in it are
 * 0700, every file 0600. POSIX modes only mean something on Linux and macOS; on Windows the data folder sits
 * in the user's profile, whose ACL already keeps other accounts out, and chmod would only flip read-only bits.
 */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;
const usesPosixModes = process.platform !== 'win32';

/** Creates `dir` (and missing parents) and makes `dir` itself 0700. Parents outside it are left alone. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  if (usesPosixModes && (statSync(dir).mode & 0o777) !== PRIVATE_DIR_MODE) chmodSync(dir, PRIVATE_DIR_MODE);
}

/**
 * Makes an existing file 0600 (a file created by a library that does not take a mode, such as SQLite). A file
 * this account may write but does not own (a shared `--db` file) cannot be changed; it is left as it is.
 */
export function makeFilePrivate(file: string): void {
  if (!usesPosixModes) return;
  try {
    chmodSync(file, PRIVATE_FILE_MODE);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'EROFS') throw err;
  }
}

export async function makeFilePrivateAsync(file: string): Promise<void> {
  if (usesPosixModes) await chmod(file, PRIVATE_FILE_MODE);
}

/** Creates an empty file with mode 0600 unless it exists (so SQLite opens it instead of creating it 0644). */
export function touchPrivateFile(file: string): void {
  try {
    closeSync(openSync(file, 'wx', PRIVATE_FILE_MODE));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

/**
 * Makes everything under `root` private: folders 0700, files 0600; symbolic links are not followed. Returns
 * how many entries were changed. Folders made by an older version (0755 with 0644 files) are fixed at start.
 * `root` itself is changed last, so a crash half-way leaves it open and the next start walks the tree again.
 */
export function makeTreePrivate(root: string): number {
  if (!usesPosixModes) return 0;
  let changed = 0;
  const visit = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const p = path.join(dir, name);
      let st;
      try {
        st = lstatSync(p);
      } catch {
        continue; // removed meanwhile
      }
      if (st.isSymbolicLink()) continue;
      if (st.isDirectory()) {
        if ((st.mode & 0o777) !== PRIVATE_DIR_MODE) {
          chmodSync(p, PRIVATE_DIR_MODE);
          changed++;
        }
        visit(p);
      } else if ((st.mode & 0o077) !== 0) {
        chmodSync(p, PRIVATE_FILE_MODE);
        changed++;
      }
    }
  };
  visit(root);
  if ((statSync(root).mode & 0o777) !== PRIVATE_DIR_MODE) {
    chmodSync(root, PRIVATE_DIR_MODE);
    changed++;
  }
  return changed;
}

/** Whether `dir` is already private (then the start-up walk is skipped: it costs time on a large library). */
export function isPrivateDir(dir: string): boolean {
  if (!usesPosixModes) return true;
  return (statSync(dir).mode & 0o077) === 0;
}
