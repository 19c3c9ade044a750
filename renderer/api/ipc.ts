/**
 * IPC transport: calls the preload's named methods (`window.eardrum.listRecords(...)`). The channel
 * → method table comes from the contract, so this stays generic without a generic invoke in preload.
 */
import {
  FILE_PROTOCOL_BASE,
  apiMethods,
  fileUrl,
  type ApiMethodName,
  type ArgsOf,
  type ChannelName,
  type EardrumApi,
  type FileKind,
  type Result,
  type ResultOf,
} from '../../common/contract.ts';
import type { ApiClient, ExportOutcome } from './client.ts';

const methodByChannel = Object.fromEntries(
  (Object.entries(apiMethods) as [ApiMethodName, ChannelName][]).map(([method, channel]) => [
    channel,
    method,
  ]),
) as Record<ChannelName, ApiMethodName>;

export function createIpcClient(api: EardrumApi): ApiClient {
  async function call<C extends ChannelName>(channel: C, args: ArgsOf<C>): Promise<Result<ResultOf<C>>> {
    const method = methodByChannel[channel];
    const fn = api[method] as unknown as (a: ArgsOf<C>) => Promise<Result<ResultOf<C>>>;
    try {
      return await fn(args);
    } catch (error) {
      return { ok: false, error: { code: 'internal', message: (error as Error).message } };
    }
  }

  async function exportCsv(args: ArgsOf<'export.csv'>): Promise<Result<ExportOutcome>> {
    const result = await call('export.csv', args);
    if (!result.ok) return result;
    return {
      ok: true,
      value: { path: result.value.path, rows: result.value.rows, cancelled: result.value.path === null },
    };
  }

  return {
    transport: 'electron',
    call,
    onEvent: (listener) => api.onEvent(listener),
    fileUrl: (kind: FileKind, id: number) => fileUrl(kind, id, { base: FILE_PROTOCOL_BASE }),
    exportCsv,
  };
}
