import type { EardrumApi } from '../../common/contract.ts';
import type { ApiClient } from './client.ts';
import { createHttpClient, tokenFromLocation } from './http.ts';
import { createIpcClient } from './ipc.ts';

declare global {
  interface Window {
    /** Present only inside the Electron window (set by preload/). */
    eardrum?: EardrumApi;
  }
}

/** IPC when the preload API exists (Electron), HTTP to the serving origin otherwise (browser). */
export function createApiClient(win: Window = window): ApiClient {
  if (win.eardrum) return createIpcClient(win.eardrum);
  return createHttpClient({ base: win.location.origin, token: tokenFromLocation(win.location) });
}

export type { ApiClient } from './client.ts';
