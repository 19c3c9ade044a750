import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
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

  it('flips the Electron fuses in the packaged binary (afterPack), as checked on a binary with a fuse wire', async () => {
    const c = (await load()) as unknown as { afterPack?: string };
    expect(c.afterPack).toBe('main/electron/after-pack-fuses.cjs');
    const hook = require(path.join(root, c.afterPack!)) as {
      default: (context: unknown) => Promise<void>;
      fusesFor(platform: string): Record<string, unknown>;
    };
    // A stand-in for Electron's binary: the fuse sentinel, wire version 1, 8 fuses in Electron's default state.
    const SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
    const defaults = '10110001'; // RunAsNode, cookies, NODE_OPTIONS, inspect, integrity, asar-only, snapshot, file://
    const dir = await mkdtemp(path.join(os.tmpdir(), 'eardrum-fuses-'));
    try {
      const binary = path.join(dir, 'eardrum-workstation');
      await writeFile(
        binary,
        Buffer.concat([
          Buffer.alloc(100, 7),
          Buffer.from(SENTINEL),
          Buffer.from([1, 8]),
          Buffer.from(defaults),
          Buffer.alloc(50, 7),
        ]),
      );
      await hook.default({
        electronPlatformName: 'linux',
        appOutDir: dir,
        packager: {
          executableName: 'eardrum-workstation',
          appInfo: { productFilename: 'Eardrum Workstation' },
        },
      });
      const after = await readFile(binary);
      const at = after.indexOf(SENTINEL) + SENTINEL.length + 2;
      // Off: run as Node, NODE_OPTIONS, --inspect, snapshot, file:// privileges. On: cookie encryption and
      // asar only. The integrity check stays off on Linux (Electron has none there).
      expect(after.subarray(at, at + 8).toString()).toBe('01000100');
      expect(after.length).toBe(100 + SENTINEL.length + 2 + 8 + 50);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const mac = hook.fusesFor('darwin');
    expect(mac).toMatchObject({ '4': true, '5': true, '0': false, resetAdHocDarwinSignature: true });
    expect(hook.fusesFor('win32')).toMatchObject({
      '0': false,
      '2': false,
      '3': false,
      '4': false,
      '5': true,
    });
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
