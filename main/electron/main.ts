/**
 * Electron entry (bundled to dist-electron/main.js). The only file that reaches for Electron's
 * runtime objects; every decision it wires is a tested plain function in this folder.
 */
import { BrowserWindow, Menu, app, dialog, ipcMain, protocol, safeStorage, session } from 'electron';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EVENT_CHANNEL, FILE_PROTOCOL, type EngineEvent } from '../../common/contract.ts';
import { adaptBaseDir, defaultModelDir } from '../../model/classifier.ts';
import { SHELL_NAVIGATE_CHANNEL } from '../../preload/shell-channels.ts';
import { defaultWatchDir, ensureDir } from '../paths.ts';
import { WorkerDiagnoser } from '../model/worker-diagnoser.ts';
import { createServices, type Services } from '../services.ts';
import { filePasswordKeeper } from '../store/db-password.ts';
import { consoleLogger } from '../util/logger.ts';
import { createFileProtocolHandler, createRendererProtocolHandler } from './app-protocol.ts';
import { startWithSavedDatabase } from './database-startup.ts';
import { registerIpcHandlers } from './ipc-handlers.ts';
import { keychainPasswordKeeper } from './keychain-password.ts';
import { ShutdownCoordinator, acquireSingleInstance } from './lifecycle.ts';
import { MENU_STRINGS, buildMenuTemplate } from './menu.ts';
import { appPaths } from './paths.ts';
import { saveWindowAsPdf } from './report-pdf.ts';
import {
  APP_ENTRY_URL,
  APP_SCHEME,
  guardSession,
  guardWebContents,
  hardenedWebPreferences,
} from './security.ts';
import { resolveStoredFile } from './stored-files.ts';

const log = consoleLogger('[eardrum] ');
const bundleDir = path.dirname(fileURLToPath(import.meta.url));

process.on('uncaughtException', (error) => log.error(`uncaught: ${error.stack ?? error.message}`));
process.on('unhandledRejection', (reason) => log.error(`unhandled rejection: ${String(reason)}`));

// Must happen before 'ready': the schemes get a real origin, fetch support and secure-context status.
protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
  { scheme: FILE_PROTOCOL, privileges: { standard: true, secure: true } },
]);
app.enableSandbox();

let mainWindow: BrowserWindow | null = null;

function focusWindow(): void {
  if (!mainWindow) return;
  if (mainWindow.isMinimized()) mainWindow.restore();
  mainWindow.focus();
}

function createWindow(preloadFile: string): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 800,
    minWidth: 360,
    minHeight: 480,
    show: false,
    backgroundColor: '#f6f7f8',
    title: 'Eardrum Workstation',
    webPreferences: hardenedWebPreferences(preloadFile),
  });
  guardWebContents(win.webContents, log);
  win.once('ready-to-show', () => win.show());
  win.on('closed', () => {
    if (mainWindow === win) mainWindow = null;
  });
  void win.loadURL(APP_ENTRY_URL);
  return win;
}

function installMenu(services: Services): void {
  // Like the window: the language chosen in the app, else the operating system's when we have it.
  const language =
    services.engine.currentSettings.language ?? (app.getLocale().startsWith('ko') ? 'ko' : 'en');
  const strings = MENU_STRINGS[language] ?? MENU_STRINGS.en;
  const template = buildMenuTemplate(
    strings,
    {
      navigate: (view) => mainWindow?.webContents.send(SHELL_NAVIGATE_CHANNEL, view),
      chooseFolder: () => mainWindow?.webContents.send(SHELL_NAVIGATE_CHANNEL, 'settings'),
      about: () =>
        void dialog.showMessageBox({
          type: 'info',
          title: strings.about,
          message: `Eardrum Workstation ${app.getVersion()}`,
          detail: strings.disclaimer,
        }),
      quit: () => app.quit(),
    },
    process.platform,
  );
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}

async function start(): Promise<void> {
  await app.whenReady();
  const paths = appPaths({
    userData: app.getPath('userData'),
    isPackaged: app.isPackaged,
    resourcesPath: process.resourcesPath,
    bundleDir,
    bundled: !import.meta.url.endsWith('.ts'),
  });
  guardSession(session.defaultSession, log);
  // The model worker is started here rather than by createServices so it can be pointed at the
  // bundled classifier; it is closed after the engine has stopped.
  const shippedModelDir = defaultModelDir(paths.resourcesDir);
  const diagnoser = await WorkerDiagnoser.start({
    modelDir: shippedModelDir,
    ...(paths.classifierModule ? { classifierModule: paths.classifierModule } : {}),
    ...(paths.adaptModule ? { adaptModule: paths.adaptModule } : {}),
  });
  const passwordKeeper = keychainPasswordKeeper(safeStorage, filePasswordKeeper(paths.dataDir));
  // createServices switches the worker to the model chosen in the data folder, if any.
  const services = await startWithSavedDatabase({
    dataDir: paths.dataDir,
    keeper: passwordKeeper,
    language: app.getLocale().startsWith('ko') ? 'ko' : 'en',
    ask: (options) => dialog.showMessageBox(options),
    start: () =>
      createServices({
        dataDir: paths.dataDir,
        passwordKeeper,
        modelDir: shippedModelDir,
        adaptBaseDir: adaptBaseDir(paths.resourcesDir),
        diagnoser,
        transport: 'electron',
        logger: log,
        dialogs: {
          async chooseSavePath(suggestedName) {
            const options = { defaultPath: suggestedName, filters: [{ name: 'CSV', extensions: ['csv'] }] };
            const r = mainWindow
              ? await dialog.showSaveDialog(mainWindow, options)
              : await dialog.showSaveDialog(options);
            return r.canceled || !r.filePath ? null : r.filePath;
          },
          async chooseFolder() {
            const options = { properties: ['openDirectory' as const, 'createDirectory' as const] };
            const r = mainWindow
              ? await dialog.showOpenDialog(mainWindow, options)
              : await dialog.showOpenDialog(options);
            return r.canceled ? null : (r.filePaths[0] ?? null);
          },
          async savePdf(suggestedName) {
            return mainWindow ? saveWindowAsPdf(mainWindow, dialog, suggestedName) : null;
          },
        },
      }),
  });
  // Like `eardrum serve`: with no folder configured yet, watch the default inbox until one is chosen.
  if (!services.engine.currentSettings.watchDir)
    await services.updateSettings({ watchDir: ensureDir(defaultWatchDir()) });
  new ShutdownCoordinator(
    app,
    async () => {
      await services.stop();
      await diagnoser.close();
    },
    log,
  ).attach();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => app.quit());

  protocol.handle(APP_SCHEME, createRendererProtocolHandler(paths.rendererDir));
  protocol.handle(
    FILE_PROTOCOL,
    createFileProtocolHandler({
      dataDir: paths.dataDir,
      resolveFile: (kind, id) => resolveStoredFile(services, kind, id),
    }),
  );
  registerIpcHandlers(ipcMain, (channel, args) => services.call(channel, args), log);
  services.subscribe((event: EngineEvent) => {
    if (mainWindow && !mainWindow.isDestroyed()) mainWindow.webContents.send(EVENT_CHANNEL, event);
  });
  installMenu(services);
  mainWindow = createWindow(paths.preloadFile);
  await services.start();
}

if (acquireSingleInstance(app, focusWindow)) {
  start().catch((error: Error) => {
    log.error(`could not start: ${error.stack ?? error.message}`);
    dialog.showErrorBox('Eardrum Workstation', `The workstation could not start:\n${error.message}`);
    app.exit(1);
  });
}
