import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBridge } from '../http/bridge.ts';
import { defaultDataDir, defaultWatchDir, ensureDir } from '../paths.ts';
import { createServices } from '../services.ts';
import { EngineError } from '../util/errors.ts';
import { consoleLogger } from '../util/logger.ts';
import { parseCli, reportFailure, untilSignal } from './shared.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const USAGE = `usage: eardrum serve [--watch DIR] [--port N] [--host H] [--data-dir DIR] [--db FILE|URL]
                     [--db-password-file FILE] [--library DIR] [--password-file FILE] [--renderer DIR] [--model DIR]
                     [--backend auto|wasm|cpu] [--polling]

Runs the engine and the HTTP bridge of the app's API, and serves the built user interface.
  --watch DIR        export folder to watch (default: the saved setting, else ${defaultWatchDir()})
  --port N           default 8400 (0 picks a free port)
  --host H           default 127.0.0.1. Any other address needs a password (EARDRUM_PASSWORD or --password-file).
  --data-dir DIR     default ${defaultDataDir()}
  --db FILE|URL      SQLite file, or postgres://USER@HOST:PORT/DB for the history shared by several rooms, its
                     password in --db-password-file (never in the URL). Default: the clinic database chosen in
                     Settings (its password kept in <data-dir>/database-password), else <data-dir>/eardrum.sqlite
  --library DIR      image library folder shared by the rooms (SMB/NFS, must exist; default: the folder
                     saved in Settings → Clinic database, else <data-dir>/library)
  --renderer DIR     built UI (default dist/renderer)
Every request needs the access token printed in the URL at start (new on each launch).`;

export async function run(argv: string[]): Promise<number> {
  try {
    const { values } = parseCli(
      argv,
      {
        options: {
          watch: { type: 'string' },
          port: { type: 'string' },
          host: { type: 'string' },
          'data-dir': { type: 'string' },
          db: { type: 'string' },
          'db-password-file': { type: 'string' },
          library: { type: 'string' },
          'password-file': { type: 'string' },
          renderer: { type: 'string' },
          model: { type: 'string' },
          backend: { type: 'string' },
          polling: { type: 'boolean' },
          help: { type: 'boolean', short: 'h' },
        },
      },
      USAGE,
    );
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    const port = Number(values.port ?? 8400);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new EngineError('invalid_args', `--port ${values.port} is not a port number`);
    const backend = values.backend ?? 'auto';
    if (!['auto', 'wasm', 'cpu'].includes(backend))
      throw new EngineError('invalid_args', '--backend must be auto, wasm or cpu');
    let password = process.env.EARDRUM_PASSWORD;
    if (values['password-file']) password = readFileSync(values['password-file'], 'utf8').trim();

    const logger = consoleLogger();
    const dataDir = ensureDir(values['data-dir'] ?? defaultDataDir());
    const services = await createServices({
      dataDir,
      ...(values.db ? { dbPath: values.db } : {}),
      ...(values['db-password-file'] ? { dbPasswordFile: values['db-password-file'] } : {}),
      ...(values.library ? { libraryDir: path.resolve(values.library) } : {}),
      ...(values.model ? { modelDir: values.model } : {}),
      backend: backend as 'auto' | 'wasm' | 'cpu',
      transport: 'http',
      logger,
    });
    try {
      let watchDir = values.watch ? path.resolve(values.watch) : services.engine.currentSettings.watchDir;
      if (!watchDir) watchDir = ensureDir(defaultWatchDir());
      const patch: { watchDir: string; usePolling?: boolean } = { watchDir };
      if (values.polling !== undefined) patch.usePolling = values.polling;
      await services.updateSettings(patch);
      await services.start();
      const rendererDir = path.resolve(values.renderer ?? path.join(repoRoot, 'dist', 'renderer'));
      const bridge = await startBridge({
        services,
        host: values.host ?? '127.0.0.1',
        port,
        ...(password ? { password } : {}),
        rendererDir: existsSync(rendererDir) ? rendererDir : null,
        logger,
      });
      logger.info(
        `model ${services.diagnoser.card.id} ${services.diagnoser.card.version} (${services.diagnoser.backend}); ` +
          `${services.engine.status().watching ? 'watching' : 'waiting for'} ${watchDir}; data ${dataDir}`,
      );
      if (!existsSync(path.join(rendererDir, 'index.html')))
        logger.warn(`no built UI in ${rendererDir}; serving the API only`);
      console.log(`\nEardrum Workstation is running. Open:\n  ${bridge.openUrl}\n`);
      const sig = await untilSignal();
      logger.info(`${sig}: stopping...`);
      await bridge.close();
    } finally {
      await services.stop();
    }
    return 0;
  } catch (err) {
    return reportFailure(err);
  }
}
