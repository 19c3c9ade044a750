import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseArgs as parseContractArgs } from '../../common/contract.ts';
import { writeCsv } from '../export/csv-export.ts';
import { defaultDataDir } from '../paths.ts';
import { openDatabaseReadOnly } from '../store/database.ts';
import { startupDatabase } from '../store/db-config.ts';
import { filePasswordKeeper } from '../store/db-password.ts';
import { createPool, pgClientConfig, isPostgresUrl } from '../store/pg-pool.ts';
import { PgStore } from '../store/pg-store.ts';
import { SqliteStore } from '../store/sqlite-store.ts';
import type { Store } from '../store/store.ts';
import { EngineError, toEngineError } from '../util/errors.ts';
import { parseCli, reportFailure } from './shared.ts';

const USAGE = `usage: eardrum export --out FILE.csv [--db FILE|URL [--db-password-file FILE] | --data-dir DIR] [filters]

Writes every matching record as CSV (RFC 4180, UTF-8 with BOM for Excel). Filters are those of the board:
  --from DAY|ISO  --to DAY|ISO   captured between (days are local; --to includes that day)
  --label ID (repeatable)        final label (the reviewed label where reviewed, else the model's)
  --gate eardrum|not_eardrum|ungradable (repeatable)   --status pending|done|failed (repeatable)
  --patient ID   --ear left|right|unknown   --reviewed yes|no   --abnormal yes|no   --text WORDS
  --decision confident|not_sure  the model's decision (results from before it had one match neither)
  --sort FIELD[:asc|desc]        default capturedAt:asc
  --lang en|ko                   headers and label names; ko also words ear, status, gate, decision
                                 (default en)
Without --db: the clinic database chosen in Settings for that data folder, else its eardrum.sqlite.`;

export async function run(argv: string[]): Promise<number> {
  try {
    const { values } = parseCli(
      argv,
      {
        options: {
          db: { type: 'string' },
          'db-password-file': { type: 'string' },
          'data-dir': { type: 'string' },
          out: { type: 'string' },
          from: { type: 'string' },
          to: { type: 'string' },
          label: { type: 'string', multiple: true },
          gate: { type: 'string', multiple: true },
          status: { type: 'string', multiple: true },
          patient: { type: 'string' },
          ear: { type: 'string' },
          reviewed: { type: 'string' },
          abnormal: { type: 'string' },
          text: { type: 'string' },
          decision: { type: 'string' },
          sort: { type: 'string' },
          lang: { type: 'string' },
          help: { type: 'boolean', short: 'h' },
        },
      },
      USAGE,
    );
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    if (!values.out) {
      console.error(USAGE);
      return 2;
    }
    const yesNo = (v: string | undefined, name: string) => {
      if (v === undefined) return undefined;
      if (v === 'yes' || v === 'true') return true;
      if (v === 'no' || v === 'false') return false;
      throw new EngineError('invalid_args', `--${name} must be yes or no`);
    };
    const [field, direction] = (values.sort ?? 'capturedAt:asc').split(':');
    const args = parseContractArgs('export.csv', {
      filter: {
        from: values.from,
        to: values.to,
        labels: values.label,
        gates: values.gate,
        statuses: values.status,
        patientId: values.patient,
        ear: values.ear,
        reviewed: yesNo(values.reviewed, 'reviewed'),
        abnormal: yesNo(values.abnormal, 'abnormal'),
        text: values.text,
        decision: values.decision,
        utcOffsetMinutes: -new Date().getTimezoneOffset(),
      },
      sort: { field, direction: direction ?? 'asc' },
      language: values.lang ?? 'en',
    });
    if (!args.ok) throw new EngineError(args.error.code, args.error.message);
    // Like a start: --db, else the clinic database saved in Settings, else the data folder's own file.
    const dataDir = path.resolve(values['data-dir'] ?? defaultDataDir());
    const chosen = startupDatabase({
      dataDir,
      keeper: filePasswordKeeper(dataDir),
      cliDb: values.db,
      cliPasswordFile: values['db-password-file'],
    });
    const dbPath = chosen.db;
    const store: Store = isPostgresUrl(dbPath)
      ? await openPgForExport(dbPath, chosen)
      : new SqliteStore(openDatabaseReadOnly(dbPath));
    try {
      store.setLabels(await store.latestModelLabels());
      const out = path.resolve(values.out);
      const tmp = path.join(
        path.dirname(out),
        `.${path.basename(out)}.${randomBytes(4).toString('hex')}.partial`,
      );
      let rows: number;
      try {
        rows = await writeCsv(store, createWriteStream(tmp, { flags: 'wx' }), args.value);
        await rename(tmp, out);
      } catch (err) {
        await rm(tmp, { force: true });
        throw toEngineError(err, `Writing ${out}`);
      }
      console.log(`wrote ${rows} records to ${out}`);
    } finally {
      await store.close();
    }
    return 0;
  } catch (err) {
    return reportFailure(err);
  }
}

/** The shared history for reading only: the export claims nothing and listens to nothing. */
function openPgForExport(
  url: string,
  secret: { passwordFile?: string; password?: string },
): Promise<PgStore> {
  const connect = {
    url,
    ...(secret.passwordFile ? { passwordFile: secret.passwordFile } : {}),
    ...(secret.password !== undefined ? { password: secret.password } : {}),
    applicationName: 'eardrum export',
  };
  return PgStore.open(createPool(connect), url, {
    workstation: connect.applicationName,
    listenConfig: pgClientConfig(connect),
  });
}
