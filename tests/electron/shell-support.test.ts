import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { buildElectron } from '../../main/electron/build.ts';
import { MISSING_ELECTRON_HELP, findElectronBinary } from '../../main/electron/electron-binary.ts';
import { appPaths } from '../../main/electron/paths.ts';
import { resolveStoredFile } from '../../main/electron/stored-files.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('finding the Electron runtime', () => {
  it('reports a missing download plainly and points at npm run serve', () => {
    const thrown = findElectronBinary(() => {
      throw new Error(
        'Electron failed to install correctly, please delete node_modules/electron and try installing again',
      );
    });
    expect(thrown).toEqual({ ok: false, reason: expect.stringContaining('failed to install') });
    expect(
      findElectronBinary(
        () => '/nope/electron',
        () => false,
      ),
    ).toMatchObject({ ok: false });
    expect(
      findElectronBinary(
        () => '/opt/electron',
        () => true,
      ),
    ).toEqual({ ok: true, binary: '/opt/electron' });
    expect(MISSING_ELECTRON_HELP).toContain('npm run serve');
  });

  it('`npm start` exits non-zero with that message where the runtime is missing', () => {
    if (findElectronBinary().ok) return; // a machine with Electron would launch the app instead
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'main/electron/start.ts'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('The Electron runtime is not installed');
    expect(r.stderr).toContain('npm run serve');
  });
});

describe('app paths', () => {
  it('keeps data under userData and finds the model beside the bundle or in resources when packaged', () => {
    const dev = appPaths({
      userData: '/home/u/.config/Eardrum',
      isPackaged: false,
      resourcesPath: '/x',
      bundleDir: '/repo/dist-electron',
      bundled: true,
    });
    expect(dev).toEqual({
      dataDir: '/home/u/.config/Eardrum/data',
      resourcesDir: '/repo/resources',
      rendererDir: '/repo/dist/renderer',
      preloadFile: '/repo/dist-electron/preload.cjs',
      classifierModule: '/repo/dist-electron/classifier.js',
      adaptModule: '/repo/dist-electron/adapt.js',
    });
    const packaged = appPaths({
      userData: 'C:/Users/u/AppData/Roaming/Eardrum',
      isPackaged: true,
      resourcesPath: '/opt/Eardrum/resources',
      bundleDir: '/opt/Eardrum/resources/app.asar/dist-electron',
      bundled: false,
    });
    expect(packaged.resourcesDir).toBe('/opt/Eardrum/resources');
    expect(packaged.classifierModule).toBeUndefined();
    expect(packaged.adaptModule).toBeUndefined();
  });
});

describe('stored files', () => {
  it('maps a kind to its library column and resolves it through the library', async () => {
    const rows = new Map([
      [1, { stored_path: 'originals/ab/abc.jpg', thumb_path: 'thumbs/ab/abc.jpg', overlay_path: null }],
    ]);
    const services = {
      store: { row: (id: number) => rows.get(id) as never },
      library: {
        kindColumn: (k: string) =>
          k === 'original' ? 'stored_path' : k === 'thumbnail' ? 'thumb_path' : 'overlay_path',
        resolve: async (rel: string) => `/data/library/${rel}`,
      },
    };
    expect(await resolveStoredFile(services as never, 'thumbnail', 1)).toBe(
      '/data/library/thumbs/ab/abc.jpg',
    );
    expect(await resolveStoredFile(services as never, 'overlay', 1)).toBeNull();
    expect(await resolveStoredFile(services as never, 'original', 2)).toBeNull();
  });
});

describe('layering', () => {
  it('stops the renderer importing Node, Electron, main/ or model/, and the engine importing Electron', async () => {
    const eslint = new ESLint({ cwd: root });
    const lint = async (file: string, code: string) =>
      (await eslint.lintText(code, { filePath: path.join(root, file) }))[0]!.messages
        .filter((m) => m.ruleId === 'no-restricted-imports')
        .map((m) => m.line);
    const renderer = [
      "import fs from 'node:fs';",
      "import path from 'path';",
      "import { app } from 'electron';",
      "import { createServices } from '../main/services.ts';",
      "import { Classifier } from '../model/classifier.ts';",
      "import { channels } from '../common/contract.ts';",
      'export const all = [fs, path, app, createServices, Classifier, channels];',
    ].join('\n');
    expect(await lint('renderer/probe.ts', renderer)).toEqual([1, 2, 3, 4, 5]);
    expect(
      await lint('main/store/probe.ts', "import { app } from 'electron';\nexport const a = app;"),
    ).toEqual([1]);
    expect(
      await lint('main/electron/probe.ts', "import { app } from 'electron';\nexport const a = app;"),
    ).toEqual([]);
  });
});

describe('electron bundle', () => {
  it('builds main, the model worker and a sandbox-safe preload that requires only electron', async () => {
    await buildElectron();
    const preload = await readFile(path.join(root, 'dist-electron', 'preload.cjs'), 'utf8');
    const requires = [...preload.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
    expect([...new Set(requires)]).toEqual(['electron']);
    expect(preload).toContain('exposeInMainWorld("eardrum"');
    const main = await readFile(path.join(root, 'dist-electron', 'main.js'), 'utf8');
    expect(main).toContain('registerSchemesAsPrivileged');
    await expect(
      readFile(path.join(root, 'dist-electron', 'diagnose-worker.js'), 'utf8'),
    ).resolves.toBeTruthy();
  });
});
