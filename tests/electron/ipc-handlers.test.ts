import { describe, expect, it } from 'vitest';
import { channelNames, type ChannelName } from '../../common/contract.ts';
import { registerIpcHandlers } from '../../main/electron/ipc-handlers.ts';
import { recordingLog } from './fakes.ts';

type Handler = (event: unknown, raw: unknown) => Promise<unknown>;

function fakeIpcMain() {
  const handlers = new Map<string, Handler>();
  return {
    handlers,
    handle(channel: string, handler: Handler) {
      if (handlers.has(channel)) throw new Error(`second handler for ${channel}`);
      handlers.set(channel, handler);
    },
    removeHandler(channel: string) {
      handlers.delete(channel);
    },
  };
}

const trusted = { senderFrame: { url: 'eardrum://app/index.html', parent: null } };

function setup(
  answer: (channel: ChannelName, args: unknown) => Promise<unknown> = async () => ({ ok: true, value: 'x' }),
) {
  const ipc = fakeIpcMain();
  const calls: { channel: ChannelName; args: unknown }[] = [];
  const log = recordingLog();
  const registration = registerIpcHandlers(
    ipc as never,
    async (channel, args) => {
      calls.push({ channel, args });
      return (await answer(channel, args)) as never;
    },
    log,
  );
  return { ipc, calls, log, registration };
}

describe('IPC handlers', () => {
  it('registers exactly one handler per contract channel', () => {
    const { ipc } = setup();
    expect([...ipc.handlers.keys()].sort()).toEqual([...channelNames].sort());
  });

  it('passes validated arguments, with defaults filled in, to the engine', async () => {
    const { ipc, calls } = setup();
    const result = await ipc.handlers.get('records.list')!(trusted, { limit: 10 });
    expect(result).toEqual({ ok: true, value: 'x' });
    expect(calls).toEqual([
      {
        channel: 'records.list',
        args: { filter: {}, sort: { field: 'capturedAt', direction: 'desc' }, offset: 0, limit: 10 },
      },
    ]);
  });

  it('refuses invalid arguments before they reach the engine', async () => {
    const { ipc, calls } = setup();
    const bad = await ipc.handlers.get('records.get')!(trusted, { id: '1; DROP TABLE images' });
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid_args' } });
    const override = await ipc.handlers.get('reviews.add')!(trusted, {
      recordId: 1,
      action: 'override',
      reviewer: 'x',
    });
    expect(override).toMatchObject({ ok: false, error: { code: 'invalid_args' } });
    expect(calls).toHaveLength(0);
  });

  it('refuses other pages, subframes and destroyed frames', async () => {
    const { ipc, calls, log } = setup();
    const handler = ipc.handlers.get('app.info')!;
    const senders = [
      { senderFrame: { url: 'https://evil.example/', parent: null } },
      { senderFrame: { url: 'eardrum://app/index.html', parent: { url: 'eardrum://app/index.html' } } },
      { senderFrame: null },
      {
        get senderFrame() {
          throw new Error('Render frame was disposed before WebFrameMain could be accessed');
        },
      },
    ];
    for (const sender of senders) {
      expect(await handler(sender, {})).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    }
    expect(calls).toHaveLength(0);
    expect(log.lines.filter((l) => l.startsWith('warn refused app.info'))).toHaveLength(4);
  });

  it('turns an unexpected throw into an internal error envelope', async () => {
    const { ipc, log } = setup(async () => {
      throw new Error('boom');
    });
    const result = await ipc.handlers.get('settings.get')!(trusted, {});
    expect(result).toEqual({
      ok: false,
      error: { code: 'internal', message: 'settings.get failed unexpectedly' },
    });
    expect(log.lines.some((l) => l.startsWith('error settings.get failed') && l.includes('boom'))).toBe(true);
  });

  it('passes engine errors through unchanged', async () => {
    const { ipc } = setup(async () => ({
      ok: false,
      error: { code: 'not_found', message: 'There is no record 5.' },
    }));
    expect(await ipc.handlers.get('records.get')!(trusted, { id: 5 })).toEqual({
      ok: false,
      error: { code: 'not_found', message: 'There is no record 5.' },
    });
  });

  it('removes every handler on dispose', () => {
    const { ipc, registration } = setup();
    registration.dispose();
    expect(ipc.handlers.size).toBe(0);
  });
});
