// Entry of the sandboxed preload (bundled to dist-electron/preload.cjs).
import { contextBridge, ipcRenderer } from 'electron';
import { buildEardrumApi, buildShellApi } from './api.ts';

contextBridge.exposeInMainWorld('eardrum', buildEardrumApi(ipcRenderer));
contextBridge.exposeInMainWorld('eardrumShell', buildShellApi(ipcRenderer));
