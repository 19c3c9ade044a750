/**
 * Runs the built Electron bundle (dist-electron/main.js and its model worker) under plain Node with a
 * fake `electron` module: the real engine and the real model start in a temporary userData folder,
 * the IPC handler answers `app.info` for the app frame, and quitting stops the engine cleanly.
 * This is as close to launching the desktop app as this machine allows (no Electron runtime).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { buildElectron } from '../../main/electron/build.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let tmp: string | null = null;

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const FAKE_ELECTRON = `
import { EventEmitter } from 'node:events';
const userData = process.env.FAKE_USER_DATA;
const handlers = new Map();
const report = (o) => process.stdout.write('FAKE ' + JSON.stringify(o) + '\\n');
class App extends EventEmitter {
  isPackaged = false;
  requestSingleInstanceLock() { return true; }
  enableSandbox() { report({ sandbox: true }); }
  whenReady() { return Promise.resolve(); }
  getPath(name) { return name === 'userData' ? userData : userData + '/' + name; }
  getVersion() { return '0.0.0'; }
  getLocale() { return 'en-US'; }
  quit() {
    const event = { defaultPrevented: false, preventDefault() { this.defaultPrevented = true; } };
    this.emit('before-quit', event);
    if (!event.defaultPrevented) { report({ quit: 'clean' }); process.exit(0); }
  }
  exit(code) { report({ quit: 'exit', code }); process.exit(code); }
}
export const app = new App();
export class BrowserWindow extends EventEmitter {
  constructor(options) {
    super();
    this.webContents = Object.assign(new EventEmitter(), { send() {}, setWindowOpenHandler() {} });
    report({ window: { sandbox: options.webPreferences.sandbox, contextIsolation: options.webPreferences.contextIsolation } });
  }
  async loadURL(url) {
    report({ loadURL: url });
    setTimeout(async () => {
      const info = await handlers.get('app.info')({ senderFrame: { url, parent: null } }, {});
      report({ appInfo: info });
      const refused = await handlers.get('app.info')({ senderFrame: { url: 'https://evil.example/', parent: null } }, {});
      report({ refused });
      const database = await handlers.get('database.status')({ senderFrame: { url, parent: null } }, {});
      report({ database });
      app.quit();
    }, 500);
  }
  isDestroyed() { return false; }
  isMinimized() { return false; }
}
export const Menu = { buildFromTemplate: (t) => t, setApplicationMenu: () => report({ menu: true }) };
export const dialog = { showErrorBox: (t, m) => report({ errorBox: m }), showMessageBox: async () => ({}) };
export const safeStorage = {
  isEncryptionAvailable: () => true,
  getSelectedStorageBackend: () => 'gnome_libsecret',
  encryptString: (s) => Buffer.from(s),
  decryptString: (b) => b.toString(),
};
export const ipcMain = { handle: (c, fn) => handlers.set(c, fn), removeHandler: (c) => handlers.delete(c) };
export const protocol = { registerSchemesAsPrivileged: (s) => report({ schemes: s.map((x) => x.scheme) }), handle: (s) => report({ protocol: s }) };
export const session = { defaultSession: {
  webRequest: { onHeadersReceived() {} },
  setPermissionRequestHandler() {},
  setPermissionCheckHandler() {},
} };
export default { app, BrowserWindow, Menu, dialog, ipcMain, protocol, safeStorage, session };
`;

describe('the built Electron bundle', () => {
  it('starts the real engine and model behind a fake electron module and quits cleanly', async () => {
    if (!existsSync(path.join(root, 'resources/models'))) {
      throw new Error('no shipped model in resources/models: the bundle cannot start the engine');
    }
    await buildElectron();
    tmp = await mkdtemp(path.join(os.tmpdir(), 'eardrum-bundle-'));
    const fake = path.join(tmp, 'fake-electron.mjs');
    await writeFile(fake, FAKE_ELECTRON);
    const hooks = path.join(tmp, 'hooks.mjs');
    await writeFile(
      hooks,
      `export async function resolve(specifier, context, next) {
        if (specifier === 'electron') return { url: ${JSON.stringify(pathToFileURL(fake).href)}, shortCircuit: true };
        return next(specifier, context);
      }`,
    );
    const register = path.join(tmp, 'register.mjs');
    await writeFile(
      register,
      `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`,
    );
    const userData = path.join(tmp, 'userData');
    const child = spawn(
      process.execPath,
      ['--import', pathToFileURL(register).href, 'dist-electron/main.js'],
      {
        cwd: root,
        env: {
          ...process.env,
          FAKE_USER_DATA: userData,
          HOME: tmp,
          EARDRUM_WATCH_DIR: path.join(tmp, 'inbox'),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    const reports = out
      .split('\n')
      .filter((l) => l.startsWith('FAKE '))
      .map((l) => JSON.parse(l.slice(5)) as Record<string, unknown>);
    const find = (key: string) => reports.find((r) => key in r)?.[key];
    expect(code, out).toBe(0);
    expect(find('schemes')).toEqual(['eardrum', 'eardrum-file']);
    expect(find('sandbox')).toBe(true);
    expect(find('window')).toEqual({ sandbox: true, contextIsolation: true });
    expect(find('loadURL')).toBe('eardrum://app/index.html');
    const info = find('appInfo') as { ok: boolean; value: Record<string, unknown> };
    expect(info.ok, out).toBe(true);
    expect(info.value).toMatchObject({
      transport: 'electron',
      dataDir: path.join(userData, 'data'),
      watchDir: path.join(tmp, 'inbox'),
      model: { id: expect.stringMatching(/^eardrum-/) },
    });
    expect(find('database')).toMatchObject({
      ok: true,
      value: { current: { kind: 'sqlite' }, source: 'default', passwordKept: 'keychain' },
    });
    expect(find('refused')).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(find('quit')).toBe('clean');
    expect(find('errorBox')).toBeUndefined();
  }, 120_000);
});
