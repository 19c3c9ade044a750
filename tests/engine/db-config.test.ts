/**
 * The clinic-database choice of Settings, without a server: the config file in the data folder, the private
 * password file of `eardrum serve`, the desktop app's keychain keeper (safeStorage faked), and which history
 * a start opens (command line, then the saved choice, then this workstation's SQLite file).
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { keychainPasswordKeeper } from '../../main/electron/keychain-password.ts';
import {
  DB_CONFIG_FILE,
  checkUrlHasNoPassword,
  describeDatabase,
  readDbConfig,
  removeDbConfig,
  startupDatabase,
  startupLibrary,
  writeDbConfig,
} from '../../main/store/db-config.ts';
import { PASSWORD_FILE_NAME, filePasswordKeeper } from '../../main/store/db-password.ts';
import { removeDir, tempDir } from './helpers/fs-helpers.ts';

const URL = 'postgres://eardrum@db.clinic.lan:5433/clinic';
const SECRET = 'correct horse battery staple';
const dirs: string[] = [];
const dataDir = () => {
  const d = tempDir('dbcfg');
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});
const mode = (file: string) => statSync(file).mode & 0o777;

/** A stand-in for Electron's safeStorage: reversible, and visibly not the clear text. */
function fakeSafeStorage(backend: 'gnome_libsecret' | 'basic_text' = 'gnome_libsecret', available = true) {
  return {
    isEncryptionAvailable: () => available,
    getSelectedStorageBackend: () => backend,
    encryptString: (s: string) => Buffer.from(`enc:${[...s].reverse().join('')}`),
    decryptString: (b: Buffer) => {
      const t = b.toString();
      if (!t.startsWith('enc:')) throw new Error('Error while decrypting the ciphertext provided');
      return [...t.slice(4)].reverse().join('');
    },
  };
}

describe('the saved choice (database.json)', () => {
  it('is written 0600 without the password, read back, and removed', () => {
    const dir = dataDir();
    expect(readDbConfig(dir)).toBeNull();
    const keeper = filePasswordKeeper(dir);
    writeDbConfig(dir, { url: URL, password: keeper.save(SECRET) });
    const file = path.join(dir, DB_CONFIG_FILE);
    if (process.platform !== 'win32') {
      expect(mode(file)).toBe(0o600);
      expect(mode(path.join(dir, PASSWORD_FILE_NAME))).toBe(0o600);
    }
    expect(readFileSync(file, 'utf8')).not.toContain(SECRET);
    expect(readDbConfig(dir)).toMatchObject({ version: 1, url: URL, password: { kept: 'file' } });
    expect(keeper.read({ kept: 'file' })).toBe(SECRET);
    removeDbConfig(dir);
    keeper.forget();
    expect(readDbConfig(dir)).toBeNull();
    expect(() => keeper.read({ kept: 'file' })).toThrow(/password file cannot be read/);
  });

  it('refuses a damaged file instead of quietly opening this workstation’s database', () => {
    const dir = dataDir();
    writeFileSync(path.join(dir, DB_CONFIG_FILE), '{"version":1,"url":"postgres://x@h/db"');
    expect(() => readDbConfig(dir)).toThrow(/not a clinic-database choice/);
    writeFileSync(path.join(dir, DB_CONFIG_FILE), JSON.stringify({ version: 2, url: URL }));
    expect(() => startupDatabase({ dataDir: dir, keeper: filePasswordKeeper(dir) })).toThrow(
      /not a clinic-database choice/,
    );
  });

  it('keeps no file for an empty password (a server trusting this computer)', () => {
    const dir = dataDir();
    const keeper = filePasswordKeeper(dir);
    keeper.save(SECRET);
    expect(keeper.save('')).toEqual({ kept: 'none' });
    expect(() => statSync(path.join(dir, PASSWORD_FILE_NAME))).toThrow();
    expect(keeper.read({ kept: 'none' })).toBeUndefined();
  });
});

describe('which history a start opens', () => {
  it('--db wins, else the saved choice with its kept password, else this workstation’s SQLite file', () => {
    const dir = dataDir();
    const keeper = filePasswordKeeper(dir);
    expect(startupDatabase({ dataDir: dir, keeper })).toEqual({
      db: path.join(dir, 'eardrum.sqlite'),
      source: 'default',
    });
    writeDbConfig(dir, { url: URL, password: keeper.save(SECRET) });
    expect(startupDatabase({ dataDir: dir, keeper })).toEqual({
      db: URL,
      source: 'saved',
      password: SECRET,
    });
    expect(startupDatabase({ dataDir: dir, keeper, cliPasswordFile: '/run/pw' })).toEqual({
      db: URL,
      source: 'saved',
      passwordFile: '/run/pw',
    });
    expect(startupDatabase({ dataDir: dir, keeper, cliDb: '/tmp/other.sqlite' })).toEqual({
      db: '/tmp/other.sqlite',
      source: 'command_line',
    });
  });

  it('library: --library wins, else the folder saved with the database that opens, else the data folder’s own', () => {
    const dir = dataDir();
    const keeper = filePasswordKeeper(dir);
    expect(startupLibrary({ dataDir: dir })).toEqual({ dir: null, source: 'default' });
    // A choice saved before the library was part of it reads as before.
    writeDbConfig(dir, { url: URL, password: keeper.save(SECRET) });
    expect(readDbConfig(dir)?.library).toBeUndefined();
    expect(startupLibrary({ dataDir: dir })).toEqual({ dir: null, source: 'default' });
    const SHARE = '/mnt/clinic/eardrum-library';
    writeDbConfig(dir, { url: URL, password: keeper.save(SECRET), library: SHARE });
    expect(readDbConfig(dir)).toMatchObject({ url: URL, library: SHARE });
    expect(startupLibrary({ dataDir: dir })).toEqual({ dir: SHARE, source: 'saved' });
    expect(startupLibrary({ dataDir: dir, cliLibrary: 'rel/share' })).toEqual({
      dir: path.resolve('rel/share'),
      source: 'command_line',
    });
    // `--db` naming the same server and database (written differently) keeps the folder saved with it...
    const sameDb = 'postgresql://eardrum@db.clinic.lan:5433/clinic?sslmode=disable';
    expect(startupLibrary({ dataDir: dir, cliDb: sameDb })).toEqual({ dir: SHARE, source: 'saved' });
    // ...another history does not inherit it.
    for (const other of ['postgres://eardrum@db.clinic.lan:5433/other', '/tmp/other.sqlite'])
      expect(startupLibrary({ dataDir: dir, cliDb: other })).toEqual({ dir: null, source: 'default' });
  });

  it('says why a keychain password cannot be read by `eardrum serve`', () => {
    const dir = dataDir();
    writeDbConfig(dir, { url: URL, password: { kept: 'keychain', encrypted: 'AAAA' } });
    expect(() => startupDatabase({ dataDir: dir, keeper: filePasswordKeeper(dir) })).toThrow(
      expect.objectContaining({
        code: 'database.password_unavailable',
        message: expect.stringMatching(/keychain.*--db-password-file/),
      }),
    );
  });
});

describe('the desktop app’s keychain keeper', () => {
  it('encrypts with safeStorage into the config file and keeps no password file', () => {
    const dir = dataDir();
    const keeper = keychainPasswordKeeper(fakeSafeStorage(), filePasswordKeeper(dir), 'linux');
    expect(keeper.kind).toBe('keychain');
    const saved = keeper.save(SECRET);
    expect(saved.kept).toBe('keychain');
    writeDbConfig(dir, { url: URL, password: saved });
    expect(readFileSync(path.join(dir, DB_CONFIG_FILE), 'utf8')).not.toContain(SECRET);
    expect(() => statSync(path.join(dir, PASSWORD_FILE_NAME))).toThrow();
    expect(startupDatabase({ dataDir: dir, keeper })).toMatchObject({ password: SECRET });
    expect(() => keeper.read({ kept: 'keychain', encrypted: 'bm9wZQ==' })).toThrow(
      expect.objectContaining({ code: 'database.password_unavailable' }),
    );
  });

  it('uses the private file where Linux has no keyring (basic_text) or encryption is unavailable', () => {
    const dir = dataDir();
    for (const safe of [fakeSafeStorage('basic_text'), fakeSafeStorage('gnome_libsecret', false)]) {
      const keeper = keychainPasswordKeeper(safe, filePasswordKeeper(dir), 'linux');
      expect(keeper.kind).toBe('file');
      expect(keeper.save(SECRET)).toEqual({ kept: 'file' });
      expect(readFileSync(path.join(dir, PASSWORD_FILE_NAME), 'utf8')).toBe(`${SECRET}\n`);
    }
    // macOS and Windows have no basic_text backend to rule out.
    expect(
      keychainPasswordKeeper(fakeSafeStorage('basic_text'), filePasswordKeeper(dir), 'darwin').kind,
    ).toBe('keychain');
  });
});

describe('URLs', () => {
  it('describes a history without secrets and refuses a password in the URL', () => {
    expect(describeDatabase(URL)).toEqual({
      kind: 'postgres',
      host: 'db.clinic.lan',
      port: 5433,
      database: 'clinic',
      user: 'eardrum',
    });
    expect(describeDatabase('postgresql://nurse@localhost/?host=/run/postgresql')).toMatchObject({
      host: '/run/postgresql',
      port: 5432,
      database: 'nurse',
    });
    expect(describeDatabase('rel/x.sqlite')).toEqual({ kind: 'sqlite', file: path.resolve('rel/x.sqlite') });
    expect(() => checkUrlHasNoPassword('postgres://eardrum:pw@h/db')).toThrow(/password field/);
    expect(() => checkUrlHasNoPassword('postgres://h/db')).toThrow(/needs a user/);
  });
});
