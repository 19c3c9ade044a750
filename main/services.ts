import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type Database from 'better-sqlite3';
import type {
  ChannelName,
  EngineEvent,
  Handlers,
  Result,
  Settings,
  SettingsPatch,
} from '../common/contract.ts';
import { ErrorCodes } from '../common/contract.ts';
import { createHandlers, dispatch } from './api/handlers.ts';
import { UploadSlots } from './api/upload-slots.ts';
import { DataDirLock } from './data-lock.ts';
import { Engine } from './ingest/engine.ts';
import { WorkerPatternMatcher, type PatternMatcher } from './ingest/pattern-matcher.ts';
import { LearningService } from './learn/learning-service.ts';
import { ModelCatalog } from './learn/model-catalog.ts';
import type { ImageLibrary, WriteFileFn } from './library/library.ts';
import { openLibrary } from './library/open-library.ts';
import type { Diagnoser } from './model/diagnoser.ts';
import { WorkerDiagnoser } from './model/worker-diagnoser.ts';
import type { Backups } from './store/backups.ts';
import { filePasswordKeeper, type PasswordKeeper } from './store/db-password.ts';
import { openChosenStore } from './store/open-store.ts';
import { SettingsWhileAway } from './store/settings-while-away.ts';
import type { Store } from './store/store.ts';
import { EngineError, toEngineError } from './util/errors.ts';
import type { Logger } from './util/logger.ts';
import { silentLogger } from './util/logger.ts';
import { ensurePrivateDir, isPrivateDir, makeTreePrivate } from './util/private-files.ts';
import { workstationName } from './paths.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface Dialogs {
  /** Asks where to save a file; null when cancelled. */
  chooseSavePath(suggestedName: string): Promise<string | null>;
  /** Asks for a folder; null when cancelled. */
  chooseFolder(): Promise<string | null>;
  /** Prints the window's current page to PDF, asks where to save it and writes it; null when cancelled. */
  savePdf?(suggestedName: string): Promise<string | null>;
}

export interface ServicesOptions {
  /** The app's own folder: database, image library, backups. Created if missing. */
  dataDir: string;
  /** Folder to watch; when given it replaces (and is saved as) the watched-folder setting. */
  watchDir?: string;
  /** Database file; default `<dataDir>/eardrum.sqlite`. Or a `postgres://user@host:port/db` URL: the shared history. */
  dbPath?: string;
  /** File holding the PostgreSQL password (never given on the command line, never logged or stored). */
  dbPasswordFile?: string;
  /**
   * A library folder shared by the rooms (SMB/NFS), so every room shows the photos, thumbnails and
   * overlays another stored; it wins over the folder saved in Settings → Clinic database, and without
   * either the library is `<dataDir>/library`, this workstation's own. Must exist.
   */
  libraryDir?: string;
  /** Shared history: how long a photo's claim outlives its room's last heartbeat (ms, default 30 s). */
  claimLeaseMs?: number;
  /**
   * Keeps the password of the clinic database chosen in Settings: the desktop app's keychain
   * (main/electron/keychain-password.ts); default a private file in the data folder.
   */
  passwordKeeper?: PasswordKeeper;
  /**
   * The shipped model's folder; default model/classifier.ts `defaultModelDir()`. The engine uses the model
   * chosen in the data folder (`<dataDir>/models/current.json`, see main/learn/model-catalog.ts), this one
   * when none was chosen or the chosen one cannot be loaded.
   */
  modelDir?: string;
  /**
   * The model "Learn from reviewed photos" adapts; default `adaptBaseDir()` (resources/models/current.json
   * `adaptFrom`) when modelDir is not given, else modelDir.
   */
  adaptBaseDir?: string;
  backend?: 'auto' | 'wasm' | 'cpu';
  /** A ready diagnoser instead of the model worker (tests). */
  diagnoser?: Diagnoser;
  transport?: 'electron' | 'http';
  dialogs?: Dialogs;
  logger?: Logger;
  /** Write-stability window of the watcher (ms). */
  stabilityMs?: number;
  busyTimeoutMs?: number;
  /** Injected low-level library write (tests simulate a full disk with it). */
  libraryWrite?: WriteFileFn;
}

export interface Services {
  readonly appVersion: string;
  readonly transport: 'electron' | 'http';
  readonly dataDir: string;
  /** The SQLite file, or the PostgreSQL URL without any password. */
  readonly dbPath: string;
  /** Why that history: `--db`, the clinic database saved in Settings, or the default SQLite file. */
  readonly dbSource: 'command_line' | 'saved' | 'default';
  readonly passwordKeeper: PasswordKeeper;
  /** The SQLite connection; null on PostgreSQL. */
  readonly db: Database.Database | null;
  readonly backups: Backups | null;
  readonly store: Store;
  readonly library: ImageLibrary;
  /** Why that library: `--library`, the folder saved in Settings → Clinic database, or the data folder's own. */
  readonly librarySource: 'command_line' | 'saved' | 'default';
  readonly diagnoser: Diagnoser;
  readonly patterns: PatternMatcher;
  /** Hand uploads received at once (at most two). */
  readonly uploads: UploadSlots;
  readonly engine: Engine;
  readonly catalog: ModelCatalog;
  readonly learning: LearningService;
  readonly handlers: Handlers;
  readonly dialogs: Dialogs | undefined;
  /** Validates and runs one channel; always resolves to a Result. */
  call(channel: ChannelName | string, args: unknown): Promise<Result<unknown>>;
  subscribe(listener: (e: EngineEvent) => void): () => void;
  /** `changedBy` is recorded with any threshold change (default: the reviewer-name setting). */
  updateSettings(patch: SettingsPatch, changedBy?: string): Promise<Settings>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

function appVersion(): string {
  try {
    return (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return '0.0.0';
  }
}

async function defaultModelDir(): Promise<string> {
  const mod = (await import('../model/classifier.ts')) as { defaultModelDir(): string };
  return mod.defaultModelDir();
}

async function defaultAdaptBaseDir(): Promise<string> {
  const mod = (await import('../model/classifier.ts')) as { adaptBaseDir(): string };
  return mod.adaptBaseDir();
}

/** Creates the data folder private (0700), or makes an existing one private with everything in it. */
function prepareDataDir(dataDir: string, logger: Logger): void {
  try {
    if (existsSync(dataDir) && !statSync(dataDir).isDirectory())
      throw new EngineError(ErrorCodes.ioError, `${dataDir} is not a folder.`);
    if (existsSync(dataDir) && !isPrivateDir(dataDir)) {
      // Made by an older version or by hand: the whole tree, the folder itself last (see makeTreePrivate).
      const n = makeTreePrivate(dataDir);
      logger.info(`data folder ${dataDir}: made ${n} files and folders readable by this account only`);
    } else ensurePrivateDir(dataDir);
  } catch (err) {
    throw toEngineError(err, `Preparing the data folder ${dataDir}`);
  }
}

/**
 * `EARDRUM_CLAIM_LEASE_MS`: a shorter claim lease for drills and tests (a room's death noticed sooner); below
 * 300 ms a heartbeat (a third of it) could not keep up with a busy server.
 */
function claimLeaseFromEnv(): number | undefined {
  const v = process.env.EARDRUM_CLAIM_LEASE_MS;
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 300 || n > 3_600_000)
    throw new EngineError(
      ErrorCodes.invalidArgs,
      `EARDRUM_CLAIM_LEASE_MS must be a whole number of milliseconds from 300 to 3600000 (got "${v}").`,
    );
  return n;
}

/**
 * Builds every engine service in dependency order. Nothing runs until `start()`; `stop()` finishes the image
 * in flight, closes the model worker and the database, and releases the data folder.
 */
export async function createServices(opts: ServicesOptions): Promise<Services> {
  const logger = opts.logger ?? silentLogger;
  const dataDir = path.resolve(opts.dataDir);
  prepareDataDir(dataDir, logger);
  const lock = new DataDirLock(dataDir);
  lock.acquire();
  const cleanup: (() => Promise<void> | void)[] = [() => lock.release()];
  const workstation = workstationName(dataDir);
  try {
    const claimLeaseMs = opts.claimLeaseMs ?? claimLeaseFromEnv();
    const passwordKeeper = opts.passwordKeeper ?? filePasswordKeeper(dataDir);
    const opened = await openChosenStore({
      cliDb: opts.dbPath,
      cliPasswordFile: opts.dbPasswordFile,
      keeper: passwordKeeper,
      dataDir,
      logger,
      workstation,
      localQueue: true,
      ...(opts.busyTimeoutMs !== undefined ? { busyTimeoutMs: opts.busyTimeoutMs } : {}),
    });
    const { store, dbPath } = opened;
    cleanup.unshift(() => store.close());
    // PostgreSQL can go away while the workstation runs (or be away at its start): a local queue meanwhile.
    const outbox = opened.outbox ?? undefined;
    if (outbox) cleanup.unshift(() => outbox.close());
    const memory = new SettingsWhileAway({ store, outbox: opened.outbox, dbPath, logger, away: opened.away });
    const settings = await memory.initial(
      opts.watchDir !== undefined ? path.resolve(opts.watchDir) : undefined,
    );
    const { library, source: librarySource } = await openLibrary({
      dataDir,
      workstation,
      logger,
      cliLibrary: opts.libraryDir,
      cliDb: opts.dbPath,
      write: opts.libraryWrite,
    });

    const shippedDir = opts.modelDir ?? (await defaultModelDir());
    const adaptFromDir = opts.adaptBaseDir ?? (opts.modelDir ? opts.modelDir : await defaultAdaptBaseDir());
    const catalog = new ModelCatalog(shippedDir, dataDir, adaptFromDir);
    const activeId = catalog.activeId();
    let activeDir = catalog.dirOf(activeId);
    if (!activeDir) {
      logger.warn(`the chosen model ${activeId} is not in ${catalog.root}; using the shipped model`);
      activeDir = shippedDir;
    }
    let diagnoser = opts.diagnoser;
    if (!diagnoser) {
      const eardrum = settings.thresholds.eardrum;
      const start = (modelDir: string) =>
        WorkerDiagnoser.start({
          modelDir,
          backend: opts.backend ?? 'auto',
          ...(eardrum !== undefined ? { eardrumThreshold: eardrum } : {}),
        });
      try {
        diagnoser = await start(activeDir);
      } catch (err) {
        if (activeDir === shippedDir) throw err;
        logger.warn(`${(err as Error).message}; using the shipped model`);
        diagnoser = await start(shippedDir);
      }
      const d = diagnoser;
      cleanup.unshift(() => d.close());
    } else if (diagnoser.useModel && diagnoser.modelDir !== activeDir) {
      await diagnoser.useModel(activeDir).catch((err: Error) => {
        logger.warn(`${err.message}; using the shipped model`);
      });
    }
    if (opts.diagnoser && settings.thresholds.eardrum !== undefined) {
      await diagnoser.setEardrumThreshold(settings.thresholds.eardrum);
    }
    const patterns = new WorkerPatternMatcher();
    cleanup.unshift(() => patterns.close());
    store.setLabels(diagnoser.card.labels);
    await store.registerModel(diagnoser.card);
    const engine = new Engine({
      store,
      ...(outbox ? { outbox } : {}),
      library,
      diagnoser,
      patterns,
      settings,
      dataDir,
      logger,
      ...(opts.stabilityMs !== undefined ? { stabilityMs: opts.stabilityMs } : {}),
      ...(claimLeaseMs !== undefined ? { claimLeaseMs } : {}),
      clinicSettingsChanged: () => void reloadSettings(),
    });

    engine.subscribe((e) => {
      if (e.type === 'status' && e.status.database.state !== 'unreachable') void memory.back();
    });

    const extraListeners = new Set<(e: EngineEvent) => void>();
    const emit = (e: EngineEvent) => {
      for (const l of extraListeners) {
        try {
          l(e);
        } catch (err) {
          logger.warn(`event listener failed: ${(err as Error).message}`);
        }
      }
    };
    const learning = new LearningService({
      store,
      library,
      catalog,
      diagnoser,
      async switchModel(dir) {
        const d = services.diagnoser;
        if (!d.useModel)
          throw new EngineError(ErrorCodes.unsupported, 'This model runner cannot switch models.');
        await d.useModel(dir);
        store.setLabels(d.card.labels);
        await store.registerModel(d.card);
        logger.info(`now using model ${d.card.id} ${d.card.version}`);
      },
      emit,
      logger,
    });

    let dailyTimer: NodeJS.Timeout | null = null;
    const dailyBackup = async () => {
      try {
        const file = await store.backupIfDue();
        if (file) logger.info(`daily backup ${file}`);
      } catch (err) {
        logger.warn((err as Error).message);
      }
    };

    /** Settings saved (here, or by another room for the clinic's): remembered, the model and engine follow. */
    const apply = async (next: Settings) => {
      const before = engine.currentSettings.thresholds.eardrum;
      memory.saved(next);
      const d = services.diagnoser;
      if (next.thresholds.eardrum !== before)
        await d.setEardrumThreshold(next.thresholds.eardrum ?? d.card.thresholds.eardrum ?? 0.5);
      await engine.applySettings(next);
    };
    const reloadSettings = () =>
      store.getSettings().then(apply, (e: Error) => logger.warn(`clinic settings unread: ${e.message}`));
    const services: Services = {
      appVersion: appVersion(),
      transport: opts.transport ?? 'http',
      dataDir,
      dbPath,
      dbSource: opened.source,
      passwordKeeper,
      db: opened.db,
      backups: opened.backups,
      store,
      library,
      librarySource,
      diagnoser,
      patterns,
      uploads: new UploadSlots(2),
      engine,
      catalog,
      learning,
      handlers: undefined as unknown as Handlers,
      dialogs: opts.dialogs,
      call: (channel, args) =>
        dispatch(services.handlers, channel, args, (err) =>
          logger.error(`${channel}: ${(err as Error)?.stack ?? String(err)}`),
        ),
      subscribe: (listener) => {
        const off = engine.subscribe(listener);
        extraListeners.add(listener);
        return () => {
          off();
          extraListeners.delete(listener);
        };
      },
      async updateSettings(patch, changedBy) {
        if (patch.fileNamePattern !== undefined) await patterns.check(patch.fileNamePattern);
        if (patch.thresholds) {
          const unknown = Object.keys(patch.thresholds).filter((k) => k !== 'eardrum');
          if (unknown.length) {
            throw new EngineError(
              ErrorCodes.invalidArgs,
              `Only the "eardrum" threshold can be changed (got ${unknown.join(', ')}).`,
            );
          }
        }
        if (patch.watchDir) patch = { ...patch, watchDir: path.resolve(patch.watchDir) };
        const next =
          memory.whileAway(patch, engine.currentSettings) ??
          (await store.updateSettings(
            patch,
            changedBy ?? ((await store.getSettings()).reviewerName || undefined),
          ));
        await apply(next);
        return next;
      },
      async start() {
        await dailyBackup();
        await engine.start();
        dailyTimer = setInterval(() => void dailyBackup(), 60 * 60 * 1000);
        dailyTimer.unref();
      },
      async stop() {
        if (dailyTimer) clearInterval(dailyTimer);
        learning.stop();
        await engine.stop();
        for (const c of cleanup) await c();
        cleanup.length = 0;
      },
    };
    (services as { handlers: Handlers }).handlers = createHandlers(services);
    return services;
  } catch (err) {
    for (const c of cleanup) await Promise.resolve(c()).catch(() => undefined);
    throw err;
  }
}
