/**
 * A library shared by rooms whose accounts differ (NFS with different user ids, SMB with one login per room)
 * and share a group: real files, real modes. Folders are 2770 and files 0660 whatever the umask, so a
 * second room's account reads the first room's photos and adds its own to the folders the first created,
 * while an account outside the group reads nothing. The accounts are real processes under other user ids
 * (setpriv, as root); without root or setpriv that part is skipped with the reason, the modes are still
 * checked. The data folder's own library stays private (privacy.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, lstatSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyLibraryFile } from '../../main/library/library-copy.ts';
import { SHARED_LIBRARY_MODES } from '../../main/library/library-modes.ts';
import { ImageLibrary } from '../../main/library/library.ts';
import { removeDir, repoRoot, tempDir } from './helpers/fs-helpers.ts';

const posix = process.platform !== 'win32';
const isRoot = posix && process.getuid?.() === 0;
const hasSetpriv = posix && !spawnSync('setpriv', ['--version']).error;
/** Ids no real account uses here: the clinic's group, two rooms in it, and an account outside it. */
const GROUP = 47100;
const ROOM1 = 47101;
const ROOM2 = 47102;
const OUTSIDER = 47103;
const ROOM_SCRIPT = path.join(repoRoot, 'tests/engine/helpers/library-room.ts');

/** The rooms run this checkout's code: a clone inside a private home folder (0700) is out of their reach. */
function codeReadableByRooms(): boolean {
  const r = spawnSync('setpriv', [
    `--reuid=${ROOM1}`,
    `--regid=${ROOM1}`,
    '--clear-groups',
    process.execPath,
    '-e',
    `require('fs').accessSync(process.argv[1]); require('fs').accessSync(process.argv[2])`,
    ROOM_SCRIPT,
    path.join(repoRoot, 'node_modules/tsx/package.json'),
  ]);
  return r.status === 0;
}

const SKIP_ACCOUNTS = !isRoot
  ? 'needs root to act as other accounts'
  : !hasSetpriv
    ? 'needs setpriv (util-linux)'
    : !codeReadableByRooms()
      ? `the checkout at ${repoRoot} is not readable by other accounts`
      : '';

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

/** Every entry under `root` with its mode (permission and setgid bits), group and owner. */
function entries(root: string): Record<string, { mode: string; gid: number; uid: number }> {
  const out: Record<string, { mode: string; gid: number; uid: number }> = {};
  const visit = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = path.join(dir, name);
      const st = lstatSync(p);
      out[path.relative(root, p)] = { mode: (st.mode & 0o7777).toString(8), gid: st.gid, uid: st.uid };
      if (st.isDirectory()) visit(p);
    }
  };
  visit(root);
  return out;
}

/** The folder as the administrator prepares it: owned by the clinic's group, 2770 (see main/README.md). */
function sharedFolder(): string {
  const parent = tempDir('shared-lib');
  dirs.push(parent);
  chmodSync(parent, 0o755); // mkdtemp's 0700 would keep the other accounts out of the path itself
  const root = path.join(parent, 'library');
  mkdirSync(root);
  if (isRoot) chownSync(root, 0, GROUP);
  chmodSync(root, 0o2770);
  return root;
}

interface RoomResult {
  init: number | string;
  actions: string[];
}

/** Runs tests/engine/helpers/library-room.ts as `uid` (its own primary group) with `groups` beside it. */
function asAccount(
  uid: number,
  groups: number[],
  umask: string,
  root: string,
  ...actions: string[]
): RoomResult {
  const r = spawnSync(
    'setpriv',
    [
      `--reuid=${uid}`,
      `--regid=${uid}`,
      groups.length ? `--groups=${groups.join(',')}` : '--clear-groups',
      process.execPath,
      '--import',
      'tsx',
      ROOM_SCRIPT,
      root,
      `room-${uid}`,
      ...actions,
    ],
    { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, ROOM_UMASK: umask, HOME: '/tmp' } },
  );
  if (r.status !== 0) throw new Error(`room ${uid} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as RoomResult;
}

describe.skipIf(!posix)('a library shared by the rooms', () => {
  it('is written 2770 / 0660 whatever the umask; a migration into it too; the private library stays 0700 / 0600', async () => {
    const root = sharedFolder();
    const before = process.umask(0o077);
    try {
      const library = new ImageLibrary('/unused', undefined, { root, workstation: 'room-a' });
      await library.init();
      await library.put('originals/ab/ab12.jpg', Buffer.from('photo'));
      await library.put('thumbs/ab/ab12.jpg', Buffer.from('thumb'));
      const from = tempDir('old-room');
      dirs.push(from);
      mkdirSync(path.join(from, 'overlays/cd'), { recursive: true });
      writeFileSync(path.join(from, 'overlays/cd/cd34-layer.png'), 'heatmap', { mode: 0o600 });
      expect(await copyLibraryFile(from, root, 'overlays/cd/cd34-layer.png', SHARED_LIBRARY_MODES)).toBe(
        'copied',
      );
      const modes = Object.fromEntries(Object.entries(entries(root)).map(([p, e]) => [p, e.mode]));
      expect(modes).toEqual({
        originals: '2770',
        'originals/ab': '2770',
        'originals/ab/ab12.jpg': '660',
        overlays: '2770',
        'overlays/cd': '2770',
        'overlays/cd/cd34-layer.png': '660',
        thumbs: '2770',
        'thumbs/ab': '2770',
        'thumbs/ab/ab12.jpg': '660',
        tmp: '2770',
        'tmp/room-a': '2770',
      });

      const own = tempDir('own-lib');
      dirs.push(own);
      const privateLibrary = new ImageLibrary(own);
      await privateLibrary.init();
      await privateLibrary.put('originals/ab/ab12.jpg', Buffer.from('photo'));
      expect(lstatSync(path.join(own, 'library/originals/ab')).mode & 0o7777).toBe(0o700);
      expect(lstatSync(path.join(own, 'library/originals/ab/ab12.jpg')).mode & 0o7777).toBe(0o600);
    } finally {
      process.umask(before);
    }
  });

  it.skipIf(SKIP_ACCOUNTS !== '')(
    `lets another room's account read and add photos, keeps outsiders out, and opens what an older version left private${SKIP_ACCOUNTS ? ` (skipped: ${SKIP_ACCOUNTS})` : ''}`,
    () => {
      const root = sharedFolder();
      // Room 1 with the usual umask 022, which alone would have made its folders 0750.
      const room1 = asAccount(ROOM1, [GROUP], '022', root, 'put:originals/ab/ab01.jpg:from room 1');
      expect(room1).toEqual({ init: 0, actions: ['ok'] });
      const made = entries(root);
      for (const [p, e] of Object.entries(made)) {
        expect(e.gid, p).toBe(GROUP); // setgid: the library's group, not room 1's own
        expect(e.uid, p).toBe(ROOM1);
        expect(e.mode, p).toBe(p.endsWith('.jpg') ? '660' : '2770');
      }

      // Room 2, strict umask: reads room 1's photo, adds one to the folder room 1 created, and a new folder.
      const room2 = asAccount(
        ROOM2,
        [GROUP],
        '077',
        root,
        'read:originals/ab/ab01.jpg',
        'put:originals/ab/ab02.jpg:from room 2',
        'put:overlays/ab/ab02-layer.png:heatmap',
      );
      expect(room2).toEqual({ init: 0, actions: ['from room 1', 'ok', 'ok'] });
      expect(entries(root)['overlays/ab/ab02-layer.png']).toEqual({ mode: '660', gid: GROUP, uid: ROOM2 });
      // Room 1 reads room 2's in turn.
      expect(asAccount(ROOM1, [GROUP], '022', root, 'read:originals/ab/ab02.jpg').actions).toEqual([
        'from room 2',
      ]);

      // An account outside the clinic's group: nothing to read, nowhere to write.
      const outsider = asAccount(
        OUTSIDER,
        [],
        '022',
        root,
        'read:originals/ab/ab01.jpg',
        'check:originals/ab/ab01.jpg',
      );
      expect(outsider).toEqual({ init: 'EACCES', actions: ['EACCES', 'library.not_writable'] });

      // A library an older version wrote for one account (0700 / 0600): room 1's next start opens its own
      // entries to the group; room 2's entries are room 2's to open.
      chmodSync(path.join(root, 'originals'), 0o700);
      chmodSync(path.join(root, 'originals/ab/ab01.jpg'), 0o600);
      // Settings' "Test connection" in room 2 says so (the photo is there, this account may not read it).
      expect(
        asAccount(ROOM2, [GROUP], '022', root, 'read:originals/ab/ab01.jpg', 'check:originals/ab/ab01.jpg'),
      ).toEqual({ init: 0, actions: ['EACCES', 'library.not_readable'] });
      expect(asAccount(ROOM1, [GROUP], '022', root).init).toBe(2);
      expect(
        asAccount(ROOM2, [GROUP], '022', root, 'read:originals/ab/ab01.jpg', 'check:originals/ab/ab01.jpg')
          .actions,
      ).toEqual(['from room 1', 'found']);
    },
    60_000,
  );
});
