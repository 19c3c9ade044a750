import path from 'node:path';
import { createServices } from '../services.ts';
import { defaultDataDir, defaultWatchDir, ensureDir } from '../paths.ts';
import { consoleLogger } from '../util/logger.ts';
import { parseCli, reportFailure, untilSignal } from './shared.ts';

const USAGE = `usage: eardrum watch [DIR] [--data-dir DIR] [--db FILE|URL] [--db-password-file FILE] [--library DIR]
                     [--model DIR] [--backend auto|wasm|cpu]
                     [--polling] [--poll-interval MS] [--no-recursive] [--pattern PATTERN] [--once]

Watches DIR (the otoscope's export folder) and diagnoses every image saved there exactly once, logging one
line per result. Images already in DIR when it starts are diagnosed too (the backlog).
DIR defaults to ${defaultWatchDir()} (created if missing).
  --data-dir DIR    where the database, image library and backups live (default: ${defaultDataDir()})
  --db FILE|URL     database file (default: the clinic database chosen in Settings, else
                    <data-dir>/eardrum.sqlite), or postgres://USER@HOST:PORT/DB
  --db-password-file FILE   the PostgreSQL password (first line; never in the URL, never logged)
  --library DIR     image library folder shared by the rooms (SMB/NFS, must exist; default: the folder
                    saved in Settings → Clinic database, else <data-dir>/library)
  --polling         poll the folder instead of OS events (network shares: SMB/NFS send no events)
  --pattern P       file-name pattern for patient id / ear / date, e.g. "{patient}_{ear}_{date}*"
  --once            diagnose the backlog, then exit`;

export async function run(argv: string[]): Promise<number> {
  try {
    const { values, positionals } = parseCli(
      argv,
      {
        options: {
          'data-dir': { type: 'string' },
          db: { type: 'string' },
          'db-password-file': { type: 'string' },
          library: { type: 'string' },
          model: { type: 'string' },
          backend: { type: 'string' },
          polling: { type: 'boolean' },
          'poll-interval': { type: 'string' },
          'no-recursive': { type: 'boolean' },
          pattern: { type: 'string' },
          once: { type: 'boolean' },
          help: { type: 'boolean', short: 'h' },
        },
        allowPositionals: true,
      },
      USAGE,
    );
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    const dir = positionals[0] ?? ensureDir(defaultWatchDir());
    if (positionals.length > 1) {
      console.error(USAGE);
      return 2;
    }
    const backend = values.backend ?? 'auto';
    if (!['auto', 'wasm', 'cpu'].includes(backend)) {
      console.error(`--backend must be auto, wasm or cpu\n\n${USAGE}`);
      return 2;
    }
    const logger = consoleLogger();
    const services = await createServices({
      dataDir: values['data-dir'] ?? defaultDataDir(),
      watchDir: path.resolve(dir),
      ...(values.db ? { dbPath: values.db } : {}),
      ...(values['db-password-file'] ? { dbPasswordFile: values['db-password-file'] } : {}),
      ...(values.library ? { libraryDir: path.resolve(values.library) } : {}),
      ...(values.model ? { modelDir: values.model } : {}),
      backend: backend as 'auto' | 'wasm' | 'cpu',
      logger,
    });
    const patch: Parameters<typeof services.updateSettings>[0] = {};
    if (values.polling !== undefined) patch.usePolling = values.polling;
    if (values['poll-interval']) patch.pollIntervalMs = Number(values['poll-interval']);
    if (values['no-recursive']) patch.recursive = false;
    if (values.pattern) patch.fileNamePattern = values.pattern;
    // Saved and applied to the engine before it starts.
    if (Object.keys(patch).length) await services.updateSettings(patch);
    logger.info(
      `model ${services.diagnoser.card.id} ${services.diagnoser.card.version} (${services.diagnoser.backend}); data ${services.dataDir}`,
    );
    await services.start();
    const status = services.engine.status();
    if (status.error) logger.warn(status.error.message);
    if (values.once) {
      await services.engine.idle();
    } else {
      const sig = await untilSignal();
      logger.info(`${sig}: finishing the image in progress...`);
    }
    const final = services.engine.status();
    await services.stop();
    logger.info(`stopped: ${final.done} diagnosed, ${final.failed} failed, ${final.duplicates} duplicates`);
    return 0;
  } catch (err) {
    return reportFailure(err);
  }
}
