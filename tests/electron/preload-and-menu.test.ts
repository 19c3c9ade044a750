import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { EVENT_CHANNEL, apiMethods, idleStatusForTests } from './contract-helpers.ts';
import { buildMenuTemplate, MENU_STRINGS, type MenuView } from '../../main/electron/menu.ts';
import { PRELOAD_EVENT_CHANNEL, buildEardrumApi, buildShellApi } from '../../preload/api.ts';
import { SHELL_NAVIGATE_CHANNEL } from '../../preload/shell-channels.ts';

class FakeIpcRenderer extends EventEmitter {
  invoked: { channel: string; args: unknown }[] = [];
  async invoke(channel: string, args: unknown) {
    this.invoked.push({ channel, args });
    return { ok: true, value: channel };
  }
}

describe('preload bridge', () => {
  it('exposes one named method per contract channel (no generic invoke) plus onEvent', () => {
    const api = buildEardrumApi(new FakeIpcRenderer() as never);
    expect(Object.keys(api).sort()).toEqual([...Object.keys(apiMethods), 'onEvent'].sort());
    expect(Object.values(api).every((v) => typeof v === 'function')).toBe(true);
    expect(api).not.toHaveProperty('invoke');
    expect(api).not.toHaveProperty('send');
  });

  it('calls the channel the contract names for each method', async () => {
    const ipc = new FakeIpcRenderer();
    const api = buildEardrumApi(ipc as never) as unknown as Record<string, (a: unknown) => Promise<unknown>>;
    for (const [method, channel] of Object.entries(apiMethods)) {
      const args = { probe: method };
      await expect(api[method]!(args)).resolves.toEqual({ ok: true, value: channel });
      expect(ipc.invoked.at(-1)).toEqual({ channel, args });
    }
  });

  it('delivers engine events without the IPC event object, and unsubscribes', () => {
    expect(PRELOAD_EVENT_CHANNEL).toBe(EVENT_CHANNEL);
    const ipc = new FakeIpcRenderer();
    const api = buildEardrumApi(ipc as never);
    const seen: unknown[][] = [];
    const off = api.onEvent((...args: unknown[]) => seen.push(args));
    const payload = { type: 'status', status: idleStatusForTests() };
    ipc.emit(EVENT_CHANNEL, { sender: 'ipc internals' }, payload);
    expect(seen).toEqual([[payload]]);
    off();
    ipc.emit(EVENT_CHANNEL, {}, payload);
    expect(seen).toHaveLength(1);
    expect(ipc.listenerCount(EVENT_CHANNEL)).toBe(0);
  });

  it('passes only known views from the menu', () => {
    const ipc = new FakeIpcRenderer();
    const views: string[] = [];
    const off = buildShellApi(ipc as never).onNavigate((v) => views.push(v));
    ipc.emit(SHELL_NAVIGATE_CHANNEL, {}, 'board');
    ipc.emit(SHELL_NAVIGATE_CHANNEL, {}, 'javascript:alert(1)');
    off();
    ipc.emit(SHELL_NAVIGATE_CHANNEL, {}, 'live');
    expect(views).toEqual(['board']);
  });
});

describe('application menu', () => {
  function collect(template: ReturnType<typeof buildMenuTemplate>) {
    return template.flatMap((m) => (Array.isArray(m.submenu) ? m.submenu : []));
  }

  it('reaches every view from the keyboard and quits through the app', () => {
    const navigated: MenuView[] = [];
    let quits = 0;
    let folders = 0;
    const template = buildMenuTemplate(
      MENU_STRINGS.en,
      {
        navigate: (v) => navigated.push(v),
        quit: () => quits++,
        chooseFolder: () => folders++,
        about: () => undefined,
      },
      'linux',
    );
    expect(template.map((m) => m.label)).toEqual(['File', 'Edit', 'View', 'Help']);
    const items = collect(template);
    const byAccel = (a: string) => items.find((i) => i.accelerator === a);
    for (const [accel, view] of [
      ['CmdOrCtrl+1', 'live'],
      ['CmdOrCtrl+2', 'board'],
      ['CmdOrCtrl+3', 'settings'],
    ] as const) {
      (byAccel(accel)!.click as () => void)();
      expect(navigated.at(-1)).toBe(view);
    }
    (byAccel('Ctrl+Q')!.click as () => void)();
    (byAccel('CmdOrCtrl+O')!.click as () => void)();
    expect([quits, folders]).toEqual([1, 1]);
  });

  it('follows macOS conventions and speaks Korean', () => {
    const actions = {
      navigate: () => undefined,
      quit: () => undefined,
      chooseFolder: () => undefined,
      about: () => undefined,
    };
    const mac = buildMenuTemplate(MENU_STRINGS.ko, actions, 'darwin');
    expect(mac[0]?.label).toBe('Eardrum Workstation');
    expect(mac.map((m) => m.label).slice(1)).toEqual(['파일', '편집', '보기', '도움말']);
    expect(collect(mac).some((i) => i.accelerator === 'Cmd+Q')).toBe(true);
    expect(collect(mac).some((i) => i.accelerator === 'Ctrl+Q')).toBe(false);
  });
});
