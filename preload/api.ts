/**
 * The narrow bridge between the sandboxed window and the main process: one named method per contract
 * channel and an event subscription, never a generic `invoke(channel, …)`. Built from injected
 * `ipcRenderer` so it is testable without Electron; `preload/index.ts` exposes it.
 * Only type imports from the contract: the sandboxed preload bundle stays tiny.
 */
import type { IpcRenderer, IpcRendererEvent } from 'electron';
import type { EardrumApi, EngineEvent } from '../common/contract.ts';
import { SHELL_NAVIGATE_CHANNEL, type EardrumShellApi, type ShellView } from './shell-channels.ts';

type Invoker = Pick<IpcRenderer, 'invoke' | 'on' | 'removeListener'>;

/** Must equal the contract's EVENT_CHANNEL (a test checks it). */
export const PRELOAD_EVENT_CHANNEL = 'engine.event';

export function buildEardrumApi(ipc: Invoker): EardrumApi {
  return {
    appInfo: (args) => ipc.invoke('app.info', args),
    modelCard: (args) => ipc.invoke('model.card', args),
    listRecords: (args) => ipc.invoke('records.list', args),
    getRecord: (args) => ipc.invoke('records.get', args),
    countsPerDay: (args) => ipc.invoke('records.countsPerDay', args),
    listVisits: (args) => ipc.invoke('records.visits', args),
    updatePatient: (args) => ipc.invoke('records.updatePatient', args),
    addReview: (args) => ipc.invoke('reviews.add', args),
    diagnoseUpload: (args) => ipc.invoke('diagnose.upload', args),
    getSettings: (args) => ipc.invoke('settings.get', args),
    updateSettings: (args) => ipc.invoke('settings.update', args),
    previewPattern: (args) => ipc.invoke('settings.previewPattern', args),
    changeThreshold: (args) => ipc.invoke('settings.changeThreshold', args),
    settingsChanges: (args) => ipc.invoke('settings.changes', args),
    exportCsv: (args) => ipc.invoke('export.csv', args),
    chooseWatchDir: (args) => ipc.invoke('dialog.chooseWatchDir', args),
    saveReportPdf: (args) => ipc.invoke('report.savePdf', args),
    retryRecord: (args) => ipc.invoke('records.retry', args),
    learningSummary: (args) => ipc.invoke('learn.summary', args),
    startLearning: (args) => ipc.invoke('learn.start', args),
    cancelLearning: (args) => ipc.invoke('learn.cancel', args),
    decideLearning: (args) => ipc.invoke('learn.decide', args),
    useModel: (args) => ipc.invoke('models.use', args),
    databaseStatus: (args) => ipc.invoke('database.status', args),
    testDatabase: (args) => ipc.invoke('database.test', args),
    useDatabase: (args) => ipc.invoke('database.use', args),
    chooseLibraryDir: (args) => ipc.invoke('dialog.chooseLibraryDir', args),
    onEvent(listener: (event: EngineEvent) => void) {
      // The IPC event object (with its sender) never reaches the page, only the payload.
      const wrapped = (_event: IpcRendererEvent, payload: EngineEvent) => listener(payload);
      ipc.on(PRELOAD_EVENT_CHANNEL, wrapped);
      return () => {
        ipc.removeListener(PRELOAD_EVENT_CHANNEL, wrapped);
      };
    },
  };
}

const SHELL_VIEWS: readonly ShellView[] = ['live', 'board', 'settings'];

export function buildShellApi(ipc: Invoker): EardrumShellApi {
  return {
    onNavigate(listener) {
      const wrapped = (_event: IpcRendererEvent, view: unknown) => {
        if (SHELL_VIEWS.includes(view as ShellView)) listener(view as ShellView);
      };
      ipc.on(SHELL_NAVIGATE_CHANNEL, wrapped);
      return () => {
        ipc.removeListener(SHELL_NAVIGATE_CHANNEL, wrapped);
      };
    },
  };
}
