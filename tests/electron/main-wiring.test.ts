/**
 * The thin Electron entry, run under Node with `electron`, the engine and the model replaced by fakes:
 * checks what main.ts wires together (schemes, sandbox, lock, session guards, protocols, one IPC
 * handler per channel, the hardened window, event forwarding, the menu, shutdown).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EVENT_CHANNEL, channelNames, type EngineEvent } from '../../common/contract.ts';

const h = vi.hoisted(() => ({
  state: {
    privileged: [] as { scheme: string; privileges: Record<string, boolean> }[],
    sandboxEnabled: false,
    handlers: new Map<string, (event: unknown, args: unknown) => Promise<unknown>>(),
    protocols: new Map<string, (req: Request) => Promise<Response>>(),
    windows: [] as { options: Record<string, unknown>; url: string | null; sent: [string, unknown][] }[],
    menuTemplate: null as unknown,
    headersHook: false,
    permissionHandler: null as null | ((wc: unknown, p: string, cb: (ok: boolean) => void) => void),
    services: null as null | Record<string, unknown>,
    listeners: [] as ((e: unknown) => void)[],
    stopped: 0,
    createOptions: null as null | Record<string, unknown>,
    diagnoserOptions: null as null | Record<string, unknown>,
    diagnoserClosed: 0,
  },
  app: null as null | (import('node:events').EventEmitter & { quit(): void; quitCount: number }),
}));

vi.mock('electron', async () => {
  const { EventEmitter } = await import('node:events');
  const { state } = h;
  class FakeApp extends EventEmitter {
    isPackaged = false;
    quitCount = 0;
    requestSingleInstanceLock() {
      return true;
    }
    enableSandbox() {
      state.sandboxEnabled = true;
    }
    whenReady() {
      return Promise.resolve();
    }
    getPath(name: string) {
      return `/fake/${name}`;
    }
    getVersion() {
      return '0.1.0';
    }
    getLocale() {
      return 'ko-KR';
    }
    quit() {
      this.quitCount++;
      const event = {
        defaultPrevented: false,
        preventDefault() {
          this.defaultPrevented = true;
        },
      };
      this.emit('before-quit', event);
    }
    exit() {}
  }
  const app = new FakeApp();
  h.app = app;
  class BrowserWindow extends EventEmitter {
    record: { options: Record<string, unknown>; url: string | null; sent: [string, unknown][] };
    webContents: InstanceType<typeof EventEmitter> & {
      send(c: string, p: unknown): void;
      setWindowOpenHandler(): void;
    };
    constructor(options: Record<string, unknown>) {
      super();
      this.record = { options, url: null, sent: [] };
      state.windows.push(this.record);
      const record = this.record;
      this.webContents = Object.assign(new EventEmitter(), {
        send: (c: string, p: unknown) => record.sent.push([c, p]),
        setWindowOpenHandler: () => undefined,
      });
    }
    loadURL(url: string) {
      this.record.url = url;
      return Promise.resolve();
    }
    isDestroyed() {
      return false;
    }
    isMinimized() {
      return false;
    }
  }
  return {
    app,
    BrowserWindow,
    Menu: {
      buildFromTemplate: (t: unknown) => t,
      setApplicationMenu: (m: unknown) => (state.menuTemplate = m),
    },
    dialog: { showErrorBox: () => undefined, showMessageBox: async () => ({}) },
    safeStorage: {
      isEncryptionAvailable: () => true,
      getSelectedStorageBackend: () => 'gnome_libsecret',
      encryptString: (s: string) => Buffer.from(s),
      decryptString: (b: Buffer) => b.toString(),
    },
    ipcMain: {
      handle: (c: string, fn: (e: unknown, a: unknown) => Promise<unknown>) => state.handlers.set(c, fn),
      removeHandler: (c: string) => state.handlers.delete(c),
    },
    protocol: {
      registerSchemesAsPrivileged: (s: typeof state.privileged) => state.privileged.push(...s),
      handle: (scheme: string, fn: (r: Request) => Promise<Response>) => state.protocols.set(scheme, fn),
    },
    session: {
      defaultSession: {
        webRequest: { onHeadersReceived: () => (state.headersHook = true) },
        setPermissionRequestHandler: (fn: typeof state.permissionHandler) => (state.permissionHandler = fn),
        setPermissionCheckHandler: () => undefined,
      },
    },
  };
});

vi.mock('../../model/classifier.ts', () => ({
  defaultModelDir: (dir: string) => `${dir}/models/test-model`,
  adaptBaseDir: (dir: string) => `${dir}/models/test-adapt-base`,
}));
vi.mock('../../main/paths.ts', () => ({ defaultWatchDir: () => '/fake/inbox', ensureDir: (d: string) => d }));

vi.mock('../../main/model/worker-diagnoser.ts', () => ({
  WorkerDiagnoser: {
    start: async (options: Record<string, unknown>) => {
      h.state.diagnoserOptions = options;
      return { close: async () => void h.state.diagnoserClosed++ };
    },
  },
}));

vi.mock('../../main/services.ts', () => ({
  createServices: async (options: Record<string, unknown>) => {
    const { state } = h;
    state.createOptions = options;
    let watchDir = '';
    state.services = {
      engine: {
        get currentSettings() {
          return { language: null, watchDir };
        },
      },
      updateSettings: async (patch: { watchDir: string }) => {
        watchDir = patch.watchDir;
      },
      call: async (channel: string, args: unknown) => ({ ok: true, value: { channel, args } }),
      subscribe: (fn: (e: unknown) => void) => {
        state.listeners.push(fn);
        return () => undefined;
      },
      start: async () => undefined,
      stop: async () => {
        state.stopped++;
      },
      store: { row: () => undefined },
      library: { kindColumn: () => 'stored_path', resolve: async () => null },
    };
    return state.services;
  },
}));

const WAIT = { timeout: 10_000, interval: 20 };

beforeAll(async () => {
  await import('../../main/electron/main.ts');
  // vi.waitFor gives up after 1 s by default; the start reads the data folder first, which a loaded 2-core
  // machine can stretch past that without anything being wrong.
  await vi.waitFor(() => expect(h.state.windows).toHaveLength(1), WAIT);
});

afterAll(() => {
  vi.resetModules();
});

describe('Electron main wiring', () => {
  it('registers both schemes as privileged and enables the sandbox for every renderer', () => {
    expect(h.state.privileged.map((s) => s.scheme).sort()).toEqual(['eardrum', 'eardrum-file']);
    expect(h.state.privileged.every((s) => s.privileges.standard && s.privileges.secure)).toBe(true);
    expect(h.state.sandboxEnabled).toBe(true);
  });

  it('keeps the data folder under userData and runs the engine for Electron', () => {
    expect(h.state.createOptions).toMatchObject({
      dataDir: '/fake/userData/data',
      transport: 'electron',
      diagnoser: expect.anything(),
      modelDir: expect.stringMatching(/resources\/models\/test-model$/),
      adaptBaseDir: expect.stringMatching(/resources\/models\/test-adapt-base$/),
    });
    expect(h.state.diagnoserOptions).toEqual({
      modelDir: expect.stringMatching(/resources\/models\/test-model$/),
    });
    expect(h.state.createOptions?.dialogs).toBeTruthy();
    // The clinic database's password goes to the OS keychain (safeStorage), its fallback file in the data folder.
    expect(h.state.createOptions?.passwordKeeper).toMatchObject({
      kind: 'keychain',
      file: '/fake/userData/data/database-password',
    });
  });

  it('guards the session and opens one hardened window on the app origin', () => {
    expect(h.state.headersHook).toBe(true);
    let granted: boolean | null = null;
    h.state.permissionHandler!({}, 'media', (ok) => (granted = ok));
    expect(granted).toBe(false);
    const [win] = h.state.windows;
    expect(win!.url).toBe('eardrum://app/index.html');
    expect(win!.options.webPreferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    });
    expect(String((win!.options.webPreferences as { preload: string }).preload)).toMatch(/preload\.cjs$/);
  });

  it('serves the renderer and stored files through its protocols', () => {
    expect([...h.state.protocols.keys()].sort()).toEqual(['eardrum', 'eardrum-file']);
  });

  it('answers every contract channel over IPC, only for the app frame', async () => {
    expect([...h.state.handlers.keys()].sort()).toEqual([...channelNames].sort());
    const handler = h.state.handlers.get('records.get')!;
    await expect(
      handler({ senderFrame: { url: 'eardrum://app/index.html', parent: null } }, { id: 3 }),
    ).resolves.toEqual({
      ok: true,
      value: { channel: 'records.get', args: { id: 3 } },
    });
    await expect(
      handler({ senderFrame: { url: 'https://x.example/', parent: null } }, { id: 3 }),
    ).resolves.toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
  });

  it('watches the default inbox when no folder was configured', () => {
    const settings = (h.state.services!.engine as { currentSettings: { watchDir: string } }).currentSettings;
    expect(settings.watchDir).toBe('/fake/inbox');
  });

  it('forwards engine events to the window and installs the menu in the OS language until one is chosen', () => {
    const event = { type: 'settings', settings: {} } as unknown as EngineEvent;
    for (const listener of h.state.listeners) listener(event);
    expect(h.state.windows[0]!.sent).toContainEqual([EVENT_CHANNEL, event]);
    expect((h.state.menuTemplate as { label: string }[]).map((m) => m.label)).toContain('보기');
  });

  it('stops the engine before quitting', async () => {
    h.app!.quit();
    await vi.waitFor(() => expect(h.state.stopped).toBe(1), WAIT);
    await vi.waitFor(() => expect(h.state.diagnoserClosed).toBe(1), WAIT);
    await vi.waitFor(() => expect(h.app!.quitCount).toBe(2), WAIT);
  });
});
