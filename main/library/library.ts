import { randomBytes } from 'node:crypto';
import { constants, existsSync } from 'node:fs';
import { open, readdir, realpath, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { FileKind } from '../../common/contract.ts';
import { ErrorCodes } from '../../common/contract.ts';
import { EngineError, toEngineError } from '../util/errors.ts';
import { isInside } from '../util/safe-path.ts';
import {
  PRIVATE_LIBRARY_MODES,
  SHARED_LIBRARY_MODES,
  ensureLibraryDir,
  openLibraryToGroup,
  setMode,
  type LibraryModes,
} from './library-modes.ts';

/** The low-level write, injectable so tests can simulate a full disk deterministically. */
export type WriteFileFn = (file: string, data: Uint8Array, mode: number) => Promise<void>;

async function writeAndSync(file: string, data: Uint8Array, mode: number): Promise<void> {
  const fh = await open(file, constants.O_CREAT | constants.O_WRONLY | constants.O_EXCL, mode);
  try {
    // open() applies the umask; a shared library's group bits must survive it (see library-modes.ts).
    if (mode !== PRIVATE_LIBRARY_MODES.file) await setMode(file, mode);
    await fh.writeFile(data);
    // fsync before the rename: after a power cut the library holds either the whole file or nothing.
    await fh.sync();
  } finally {
    await fh.close();
  }
}

const THUMB_SIZE = 256;

/**
 * The app's own copy of every ingested image, named by SHA-256 so it survives the otoscope software deleting
 * its files, plus thumbnails and heatmap overlays. Paths in the database are relative to `root`.
 */
export class ImageLibrary {
  readonly root: string;
  /** Writes in progress (library files, uploads being received); emptied at start. */
  readonly tmpDir: string;
  /** A folder shared by several rooms (SMB/NFS) rather than this data folder's own `library/`. */
  readonly shared: boolean;
  /** Private (0700/0600) for the data folder's own library; open to the library's group when shared. */
  readonly modes: LibraryModes;
  private realRoot: string | null = null;

  /**
   * `shared`: the library is `shared.root`, a folder several workstations use, and this one writes in
   * progress in `tmp/<shared.workstation>/` of it, its own (emptied at start without touching another
   * room's half-written files) and on the same file system, so the final rename stays atomic.
   */
  constructor(
    dataDir: string,
    private readonly writeFile: WriteFileFn = writeAndSync,
    shared?: { root: string; workstation: string },
  ) {
    this.shared = shared !== undefined;
    this.modes = shared ? SHARED_LIBRARY_MODES : PRIVATE_LIBRARY_MODES;
    this.root = shared ? path.resolve(shared.root) : path.join(dataDir, 'library');
    this.tmpDir = shared ? path.join(this.root, 'tmp', shared.workstation) : path.join(this.root, 'tmp');
  }

  /** Returns how many entries an older version had left private in a shared library and were opened. */
  async init(): Promise<number> {
    // A shared library must be there already: creating it would hide an unmounted share behind an empty
    // local folder, and other rooms would never see what this one stores.
    if (this.shared) {
      const st = await stat(this.root).catch(() => null);
      if (!st?.isDirectory())
        throw new EngineError(
          ErrorCodes.notFound,
          `The shared library folder ${this.root} is missing or not a folder (is the share mounted?).`,
        );
    }
    try {
      const opened = await openLibraryToGroup(this.root, this.modes);
      await ensureLibraryDir(this.root, this.tmpDir, this.modes);
      // Leftovers of writes interrupted by a crash; the finished files were renamed out already.
      for (const name of await readdir(this.tmpDir)) await rm(path.join(this.tmpDir, name), { force: true });
      this.realRoot = await realpath(this.root);
      return opened;
    } catch (err) {
      throw toEngineError(err, `Preparing the image library in ${this.root}`);
    }
  }

  static originalPath(sha256: string, ext: string): string {
    return path.posix.join('originals', sha256.slice(0, 2), `${sha256}${ext}`);
  }

  static thumbPath(sha256: string): string {
    return path.posix.join('thumbs', sha256.slice(0, 2), `${sha256}.jpg`);
  }

  static overlayPath(sha256: string, modelId: string, version: string): string {
    const tag = `${modelId}-${version}`.replace(/[^A-Za-z0-9._-]/g, '_');
    // `-layer`: the heatmap as a transparent layer in the photo's geometry (older overlays were blended crops).
    return path.posix.join('overlays', sha256.slice(0, 2), `${sha256}-${tag}-layer.png`);
  }

  /** Writes `data` at the relative path atomically (temp file, fsync, rename). Existing files are kept. */
  async put(rel: string, data: Uint8Array): Promise<void> {
    const final = path.join(this.root, rel);
    if (existsSync(final)) return;
    const tmp = path.join(this.tmpDir, `${randomBytes(8).toString('hex')}.part`);
    try {
      await ensureLibraryDir(this.root, path.dirname(final), this.modes);
      await this.writeFile(tmp, data, this.modes.file);
      await rename(tmp, final);
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => undefined);
      throw toEngineError(err, `Saving ${rel} in the image library`);
    }
  }

  /** A small JPEG for the board; null when the image cannot be decoded (the record then has no thumbnail). */
  async makeThumbnail(bytes: Buffer): Promise<Buffer | null> {
    try {
      return await sharp(bytes, { failOn: 'none' })
        .rotate()
        .resize(THUMB_SIZE, THUMB_SIZE, { fit: 'inside', withoutEnlargement: true })
        .flatten({ background: '#000' })
        .jpeg({ quality: 80 })
        .toBuffer();
    } catch {
      return null;
    }
  }

  /**
   * Absolute path of a stored file, or null when the relative path would leave the library (it never should:
   * paths come from our database, but a damaged or edited database must not expose other files).
   */
  async resolve(rel: string): Promise<string | null> {
    if (!rel || path.isAbsolute(rel) || rel.includes('\0')) return null;
    const abs = path.resolve(this.root, rel);
    let real: string;
    try {
      real = await realpath(abs);
    } catch {
      return null;
    }
    const root = this.realRoot ?? (await realpath(this.root));
    return isInside(root, real) ? real : null;
  }

  kindColumn(kind: FileKind): 'stored_path' | 'thumb_path' | 'overlay_path' {
    return kind === 'original' ? 'stored_path' : kind === 'thumbnail' ? 'thumb_path' : 'overlay_path';
  }
}
