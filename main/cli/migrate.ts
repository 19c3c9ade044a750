import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ErrorCodes } from '../../common/contract.ts';
import { SHARED_LIBRARY_MODES } from '../library/library-modes.ts';
import { openDatabaseReadOnly } from '../store/database.ts';
import { HistoryMigration, type MigrationProgress } from '../store/history-migration.ts';
import { LATEST_SCHEMA_VERSION } from '../store/migrations.ts';
import { describePgError } from '../store/pg-errors.ts';
import { createPool, isPostgresUrl, migratePg, redactUrl } from '../store/pg-pool.ts';
import { workstationName } from '../paths.ts';
import { EngineError } from '../util/errors.ts';
import { parseCli, reportFailure, UsageError } from './shared.ts';

const USAGE = `usage: eardrum migrate --from sqlite:FILE --to postgres://USER@HOST:PORT/DB [--db-password-file FILE]
                       (--library DIR | --data-dir DIR) [--from-library DIR]

Copies one workstation's history into the clinic's shared PostgreSQL database: every record with its
sources, the model's answers, reviews and patient edits with their original times and authors, settings
changes, and the photos, thumbnails and heatmaps. The settings that are this workstation's own (watched
folder, file names, polling, reviewer, language) are kept for it alone, under the name it has when it
starts with the data folder holding FILE on this computer: run it on the workstation itself.
  --from sqlite:FILE      the workstation's database (eardrum.sqlite in its data folder); read only
  --to URL                the shared database (migrated to the current schema when new)
  --db-password-file FILE its password (first line)
  --library DIR           the shared image library every room uses: images are copied into it
  --data-dir DIR          or: a data folder whose library/ receives the images
  --from-library DIR      the source's library (default: library/ beside FILE)
Run it again at any time: what is already there is found and kept, only what is new is added.`;

export async function run(argv: string[]): Promise<number> {
  try {
    const { values } = parseCli(
      argv,
      {
        options: {
          from: { type: 'string' },
          to: { type: 'string' },
          'db-password-file': { type: 'string' },
          library: { type: 'string' },
          'data-dir': { type: 'string' },
          'from-library': { type: 'string' },
          help: { type: 'boolean', short: 'h' },
        },
      },
      USAGE,
    );
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    if (!values.from || !values.to) throw new UsageError(`--from and --to are both needed.\n\n${USAGE}`);
    if (!isPostgresUrl(values.to))
      throw new UsageError(`--to must be a postgres://USER@HOST:PORT/DB URL.\n\n${USAGE}`);
    const targetLibrary = values.library
      ? path.resolve(values.library)
      : values['data-dir']
        ? path.join(path.resolve(values['data-dir']), 'library')
        : null;
    if (!targetLibrary)
      throw new UsageError(
        `Say where the images go: --library DIR (the shared library) or --data-dir DIR.\n\n${USAGE}`,
      );
    // As for serve and watch: creating a missing shared library would hide an unmounted share.
    if (values.library && !statSync(targetLibrary, { throwIfNoEntry: false })?.isDirectory())
      throw new EngineError(
        ErrorCodes.notFound,
        `The shared library folder ${targetLibrary} is missing or not a folder (is the share mounted?).`,
      );
    const sourceFile = path.resolve(values.from.replace(/^sqlite:/i, ''));
    const sourceLibrary = path.resolve(
      values['from-library'] ?? path.join(path.dirname(sourceFile), 'library'),
    );
    const source = openSource(sourceFile);
    try {
      const pool = createPool({
        url: values.to,
        ...(values['db-password-file'] ? { passwordFile: values['db-password-file'] } : {}),
        max: 1,
      });
      try {
        try {
          await migratePg(pool);
        } catch (err) {
          throw describePgError(err, values.to);
        }
        const workstation = workstationName(path.dirname(sourceFile));
        console.log(
          `migrating ${sourceFile} → ${redactUrl(values.to)}\n  images ${sourceLibrary} → ${targetLibrary}` +
            `\n  this workstation's own settings kept as ${workstation}'s`,
        );
        let lastPrint = 0;
        const migration = new HistoryMigration({
          source,
          sourceLibrary,
          target: pool,
          targetLibrary,
          workstation,
          // The shared library is read by every room's account: its files open to their group.
          ...(values.library ? { targetModes: SHARED_LIBRARY_MODES } : {}),
          onProgress: (p) => {
            if (Date.now() - lastPrint < 1000 && p.records < p.of) return;
            lastPrint = Date.now();
            console.log(`  ${progressLine(p)}`);
          },
        });
        const done = await migration.run().catch((err: unknown) => {
          throw describePgError(err, values.to!);
        });
        console.log(summary(done));
        for (const rel of done.filesMissing.slice(0, 10))
          console.warn(`warning: ${rel} is not in ${sourceLibrary}; its record was copied without it`);
        if (done.filesMissing.length > 10)
          console.warn(`warning: … and ${done.filesMissing.length - 10} more files missing`);
      } finally {
        await pool.end().catch(() => undefined);
      }
    } finally {
      source.close();
    }
    return 0;
  } catch (err) {
    return reportFailure(err);
  }
}

/** The source read only (an engine may still be writing to it), refused with advice unless its schema is this version's. */
function openSource(file: string): Database.Database {
  if (!existsSync(file))
    throw new EngineError(ErrorCodes.notFound, `There is no workstation database at ${file}.`);
  let version: number;
  try {
    const probe = new Database(file, { readonly: true, fileMustExist: true });
    try {
      version = Number(probe.pragma('user_version', { simple: true }));
      probe.prepare('SELECT 1 FROM images LIMIT 1').get();
    } finally {
      probe.close();
    }
  } catch (err) {
    throw new EngineError(
      ErrorCodes.databaseCorrupt,
      `${file} is not a workstation database this app can read (${(err as Error).message}).`,
    );
  }
  if (version > LATEST_SCHEMA_VERSION)
    throw new EngineError(
      ErrorCodes.unsupported,
      `${file} has schema version ${version}, made by a newer Eardrum Workstation than this one (${LATEST_SCHEMA_VERSION}): migrate with that version.`,
    );
  if (version < LATEST_SCHEMA_VERSION)
    throw new EngineError(
      ErrorCodes.unsupported,
      `${file} has schema version ${version}, older than this version's (${LATEST_SCHEMA_VERSION}): start the engine on it once (eardrum watch --data-dir ${path.dirname(file)} --once) so it is brought up to date (a backup is made first), then migrate.`,
    );
  return openDatabaseReadOnly(file);
}

const n = (x: number) => x.toLocaleString('en-US');

function progressLine(p: MigrationProgress): string {
  return `${n(p.records)} / ${n(p.of)} records (${n(p.added)} new, ${n(p.alreadyThere)} already there), ${n(p.filesCopied)} files copied`;
}

function summary(p: MigrationProgress): string {
  return (
    `done: ${n(p.records)} records: ${n(p.added)} new (${n(p.joined)} of them joined a photo already stored by another room), ` +
    `${n(p.alreadyThere)} already there; ${n(p.diagnosesAdded)} diagnoses, ${n(p.reviewsAdded)} reviews added; ` +
    `${n(p.filesCopied)} image files copied${p.filesMissing.length ? `, ${n(p.filesMissing.length)} missing` : ''}`
  );
}
