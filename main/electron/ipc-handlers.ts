/**
 * Registers one `ipcMain.handle` per contract channel. Every call is checked twice before it reaches
 * the engine: the sender must be the top frame of our own page, and the arguments must pass the
 * channel's zod schema. Answers are always the Result envelope (Electron strips thrown errors).
 */
import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import {
  ErrorCodes,
  channelNames,
  fail,
  parseArgs,
  type ChannelName,
  type Result,
} from '../../common/contract.ts';
import { isTrustedSender, type Logger } from './security.ts';

type HandleOnly = Pick<IpcMain, 'handle' | 'removeHandler'>;
type SenderEvent = Pick<IpcMainInvokeEvent, 'senderFrame'>;

/** The engine's validated dispatcher (`services.call`): always resolves to a Result. */
export type CallFn = (channel: ChannelName, args: unknown) => Promise<Result<unknown>>;

export interface IpcRegistration {
  channels: readonly ChannelName[];
  dispose(): void;
}

export function registerIpcHandlers(ipcMain: HandleOnly, call: CallFn, log: Logger): IpcRegistration {
  for (const channel of channelNames) {
    ipcMain.handle(channel, (event: SenderEvent, raw: unknown) =>
      dispatchIpc(channel, event, raw, call, log),
    );
  }
  return {
    channels: channelNames,
    dispose() {
      for (const channel of channelNames) ipcMain.removeHandler(channel);
    },
  };
}

export async function dispatchIpc(
  channel: ChannelName,
  event: SenderEvent,
  raw: unknown,
  call: CallFn,
  log: Logger,
): Promise<Result<unknown>> {
  let frame: SenderEvent['senderFrame'] | null = null;
  try {
    frame = event.senderFrame;
  } catch {
    // A frame that navigated or was destroyed throws on access: treat it as untrusted.
  }
  if (!isTrustedSender(frame)) {
    log.warn(`refused ${channel} from untrusted sender ${frame?.url ?? '(no frame)'}`);
    return fail(ErrorCodes.forbidden, `${channel} may only be called by the workstation window`);
  }
  // Validated here as well as in the engine, so nothing malformed crosses into it from the window.
  const args = parseArgs(channel, raw);
  if (!args.ok) return args;
  try {
    return await call(channel, args.value);
  } catch (error) {
    log.error(`${channel} failed: ${(error as Error)?.stack ?? String(error)}`);
    return fail(ErrorCodes.internal, `${channel} failed unexpectedly`);
  }
}
