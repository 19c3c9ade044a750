import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// electron-builder's own loader and schema check (the same one `npm run dist` runs first).
const require = createRequire(path.join(root, 'package.json'));
const yaml = require('js-yaml') as { load(text: string): unknown };
const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
  validateConfiguration(config: unknown, logger: unknown): Promise<void>;
};
const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };

interface BuilderConfig {
  files: string[];
  asarUnpack: string[];
  extraResources: { from: string; to: string }[];
  linux: { target: string[] };
  win: { target: string[] };
  mac: { target: string[] };
}

async function load(): Promise<BuilderConfig> {
  return yaml.load(await readFile(path.join(root, 'electron-builder.yml'), 'utf8')) as BuilderConfig;
}

describe('electron-builder.yml', () => {
  it("passes electron-builder's schema validation", async () => {
    await expect(validateConfiguration(await load(), new DebugLogger(false))).resolves.toBeUndefined();
    await expect(
      validateConfiguration({ ...(await load()), asarUnpak: ['typo'] }, new DebugLogger(false)),
    ).rejects.toThrow();
  });

  it('builds AppImage and deb, NSIS and dmg, from the bundles, with native modules and wasm unpacked', async () => {
    const c = await load();
    expect(c.linux.target).toEqual(['AppImage', 'deb']);
    expect(c.win.target).toEqual(['nsis']);
    expect(c.mac.target).toEqual(['dmg']);
    expect(c.files).toEqual(expect.arrayContaining(['dist-electron/**', 'dist/renderer/**', 'package.json']));
    for (const needle of ['better-sqlite3', 'sharp', 'tfjs-backend-wasm/dist/*.wasm']) {
      expect(
        c.asarUnpack.some((p) => p.includes(needle)),
        needle,
      ).toBe(true);
    }
    expect(c.extraResources).toContainEqual(
      expect.objectContaining({ from: 'resources/models', to: 'models' }),
    );
  });

  it('flips the Electron fuses that keep the packaged binary from running anything but this app', async () => {
    const c = (await load()) as unknown as { electronFuses?: Record<string, boolean> };
    expect(c.electronFuses).toEqual({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      enableCookieEncryption: true,
      grantFileProtocolExtraPrivileges: false,
      loadBrowserProcessSpecificV8Snapshot: false,
      resetAdHocDarwinSignature: true,
    });
    // electron-builder's schema knows every one of them (a misspelt fuse fails validation, above).
    await expect(
      validateConfiguration(
        { ...(await load()), electronFuses: { runAsNod: false } },
        new DebugLogger(false),
      ),
    ).rejects.toThrow();
    // runAsNode off breaks child_process.fork of the app itself: nothing in the main process may rely on it.
    const mainSources = await Promise.all(
      ['main/electron/main.ts', 'main/model/worker-diagnoser.ts', 'main/ingest/pattern-matcher.ts'].map((f) =>
        readFile(path.join(root, f), 'utf8'),
      ),
    );
    for (const src of mainSources) expect(src).not.toMatch(/\bfork\(|ELECTRON_RUN_AS_NODE/);
  });

  it('points Electron at the bundled main', async () => {
    const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as {
      main: string;
      scripts: Record<string, string>;
    };
    expect(pkg.main).toBe('dist-electron/main.js');
    expect(pkg.scripts.dist).toContain('electron-builder --config electron-builder.yml');
  });
});
