import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../util/private-files.ts';

/**
 * Who may read and write a library's folders and files.
 *
 * A data folder's own library is private to the account running the app, like the rest of the data folder.
 * A library shared by the rooms (`--library`, or the folder chosen in Settings → Clinic database) is reached
 * by each room's own account (NFS with different user ids, SMB with one login per room), so its members share
 * a group: folders 2770 (setgid, so whatever any room creates inside keeps the library's group rather than
 * the creator's own) and files 0660; others get nothing, as they are patient photos.
 *
 * These modes are set explicitly rather than left to the umask: the usual 022 would leave folders 0750 and
 * lock every other room out of the `originals/ab/` folder the first room happened to create, and a file
 * 0640 could not be tidied by the administrator's group account. The umask still governs everything else
 * the process writes (the data folder is private whatever it says).
 */
export interface LibraryModes {
  readonly shared: boolean;
  readonly dir: number;
  readonly file: number;
}

export const PRIVATE_LIBRARY_MODES: LibraryModes = {
  shared: false,
  dir: PRIVATE_DIR_MODE,
  file: PRIVATE_FILE_MODE,
};
export const SHARED_LIBRARY_MODES: LibraryModes = { shared: true, dir: 0o2770, file: 0o660 };

const usesPosixModes = process.platform !== 'win32';
/**
 * chmod answers these where modes are not the file system's to keep: an SMB mount without Unix extensions
 * (its `file_mode` / `dir_mode` options decide), or an entry another room's account owns. The mount's
 * modes then stand; the write itself is not lost over them.
 */
const MODE_NOT_OURS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EINVAL', 'ENOSYS']);

export async function setMode(target: string, mode: number): Promise<void> {
  if (!usesPosixModes) return;
  try {
    await chmod(target, mode);
  } catch (err) {
    if (!MODE_NOT_OURS.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
  }
}

async function isDir(p: string): Promise<boolean> {
  return (await stat(p).catch(() => null))?.isDirectory() ?? false;
}

/**
 * Creates `dir` and its missing parents up to (not including) `root`, each with the library's folder mode.
 *
 * A shared folder is made under a hidden name beside its final one, given its mode and then renamed into
 * place: mkdir alone applies the umask (and ignores setgid), and until the chmod that followed another room
 * could find the folder and be refused writing into it. A folder that appeared meanwhile (another room was
 * quicker) is used as it is.
 */
export async function ensureLibraryDir(root: string, dir: string, modes: LibraryModes): Promise<void> {
  if (!modes.shared) {
    await mkdir(dir, { recursive: true, mode: modes.dir });
    return;
  }
  const rel = path.relative(root, dir);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return;
  let current = root;
  for (const part of rel.split(path.sep)) {
    current = path.join(current, part);
    if (await isDir(current)) continue;
    const staging = path.join(path.dirname(current), `.eardrum-dir-${randomBytes(6).toString('hex')}`);
    await mkdir(staging, { mode: modes.dir });
    try {
      await setMode(staging, modes.dir);
      await rename(staging, current);
    } catch (err) {
      await rm(staging, { recursive: true, force: true }).catch(() => undefined);
      // EEXIST / ENOTEMPTY (Linux), EPERM (Windows): another room created it first.
      if (!(await isDir(current))) throw err;
    }
  }
}

/**
 * A shared library whose folders an older version made private (0700 folders, 0600 files, one account):
 * opens what this account owns to the library's group, so the other rooms' accounts can read it. Entries
 * other accounts own are theirs to open. Returns how many entries were changed. Walked only when one of the
 * library's top folders is not open to the group yet: a large library is not walked at every start.
 */
export async function openLibraryToGroup(root: string, modes: LibraryModes): Promise<number> {
  if (!usesPosixModes || !modes.shared) return 0;
  const uid = process.getuid?.();
  const tops: string[] = [];
  for (const name of ['originals', 'thumbs', 'overlays', 'tmp']) {
    const st = await stat(path.join(root, name)).catch(() => null);
    if (st?.isDirectory() && (st.mode & 0o070) !== 0o070 && st.uid === uid) tops.push(name);
  }
  let changed = 0;
  const visit = async (p: string): Promise<void> => {
    const st = await lstat(p).catch(() => null);
    if (!st || st.isSymbolicLink() || st.uid !== uid) return;
    const want = st.isDirectory() ? modes.dir : modes.file;
    if ((st.mode & 0o7777) !== want) {
      await setMode(p, want);
      changed++;
    }
    if (st.isDirectory())
      for (const name of await readdir(p).catch(() => [] as string[])) await visit(path.join(p, name));
  };
  for (const name of tops) await visit(path.join(root, name));
  return changed;
}
