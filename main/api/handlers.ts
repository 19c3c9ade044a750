import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ChannelName, Handlers, ParsedArgsOf, Result, ResultOf } from '../../common/contract.ts';
import {
  CONTRACT_VERSION,
  EDITABLE_THRESHOLDS,
  ErrorCodes,
  MAX_IMAGE_BYTES,
  fail,
  isSavedLocally,
  parseArgs,
} from '../../common/contract.ts';
import { writeCsv } from '../export/csv-export.ts';
import type { Services } from '../services.ts';
import { EngineError, isDatabaseUnreachable, toEngineError } from '../util/errors.ts';
import { createDatabaseHandlers } from './database-handlers.ts';
import { createEditHandlers } from './edit-handlers.ts';
import { checkWatchDirFromUi } from './watch-dir.ts';

function notFound(id: number): EngineError {
  return new EngineError(ErrorCodes.notFound, `There is no record ${id}.`);
}

/** One handler per channel, shared by the Electron IPC wiring and the HTTP bridge. */
export function createHandlers(s: Services): Handlers {
  const detail = async (id: number) => {
    const d = await s.store.detail(id);
    if (!d) throw notFound(id);
    return d;
  };
  return {
    'app.info': async () => ({
      appVersion: s.appVersion,
      contractVersion: CONTRACT_VERSION,
      transport: s.transport,
      dataDir: s.dataDir,
      watchDir: s.engine.currentSettings.watchDir,
      model: {
        id: s.diagnoser.card.id,
        version: s.diagnoser.card.version,
        backend: s.diagnoser.backend,
        labelCount: s.diagnoser.card.labels.length,
      },
      engine: s.engine.status(),
    }),
    'model.card': async () => ({
      id: s.diagnoser.card.id,
      version: s.diagnoser.card.version,
      backend: s.diagnoser.backend,
      labels: s.diagnoser.card.labels,
      thresholds: s.diagnoser.card.thresholds,
      details: s.diagnoser.card.details,
    }),
    'records.list': async (a) => s.store.list(a),
    'records.get': async (a) => detail(a.id),
    'records.countsPerDay': async (a) => s.store.countsPerDay(a.filter),
    'records.visits': async (a) => s.store.visits(a),
    'diagnose.upload': async (a) => {
      const release = s.uploads.acquire();
      try {
        const clean = a.dataBase64.replace(/^data:[^,]*,/, '');
        if (!/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(clean)) {
          throw new EngineError(ErrorCodes.invalidArgs, 'dataBase64 is not valid base64.');
        }
        const bytes = Buffer.from(clean, 'base64');
        if (bytes.length > MAX_IMAGE_BYTES) {
          throw new EngineError(
            ErrorCodes.tooLarge,
            `The image is larger than ${MAX_IMAGE_BYTES / 1048576} MB.`,
          );
        }
        return await finishUpload(s, bytes, a);
      } finally {
        release();
      }
    },
    // The server away: the settings this room works with (the same, unless another room changed them).
    'settings.get': async () =>
      s.store.getSettings().catch((err: unknown) => {
        if (isDatabaseUnreachable(err)) return s.engine.currentSettings;
        throw err;
      }),
    'settings.update': async (a) =>
      s.updateSettings(a.watchDir === undefined ? a : { ...a, watchDir: checkWatchDirFromUi(a.watchDir) }),
    'settings.changeThreshold': async (a) => {
      if (!(EDITABLE_THRESHOLDS as readonly string[]).includes(a.name)) {
        throw new EngineError(
          ErrorCodes.invalidArgs,
          `The "${a.name}" threshold cannot be changed; only ${EDITABLE_THRESHOLDS.join(', ')} can.`,
        );
      }
      const thresholds = { ...(await s.store.getSettings()).thresholds };
      if (a.value === null) delete thresholds[a.name];
      else thresholds[a.name] = a.value;
      return s.updateSettings({ thresholds }, a.changedBy);
    },
    'settings.changes': async () => s.store.settingsChanges(),
    'settings.previewPattern': async (a) => s.patterns.preview(a.pattern, a.sample),
    'export.csv': async (a) => {
      if (!s.dialogs?.chooseSavePath) {
        throw new EngineError(
          ErrorCodes.unsupported,
          'Saving a file needs the desktop app; use the download URL instead.',
        );
      }
      const target = await s.dialogs.chooseSavePath(suggestedCsvName());
      if (!target) return { path: null, rows: 0 };
      const rows = await exportCsvToFile(s, a, target);
      return { path: target, rows };
    },
    'report.savePdf': async (a) => {
      if (!s.dialogs?.savePdf) {
        throw new EngineError(
          ErrorCodes.unsupported,
          'Saving a PDF needs the desktop app; in a browser use the print dialog\'s "Save as PDF".',
        );
      }
      return { path: await s.dialogs.savePdf(a.suggestedName) };
    },
    'dialog.chooseWatchDir': async () => {
      if (!s.dialogs?.chooseFolder)
        throw new EngineError(ErrorCodes.unsupported, 'Choosing a folder needs the desktop app.');
      return { path: await s.dialogs.chooseFolder() };
    },
    'records.retry': async (a) => s.engine.retry(a.id),
    'learn.summary': async () => s.learning.summary(),
    'learn.start': async () => s.learning.start(),
    'learn.cancel': async () => s.learning.cancel(),
    'learn.decide': async (a) => s.learning.decide(a.use),
    'models.use': async (a) => s.learning.use(a.id),
    ...createDatabaseHandlers(s),
    ...createEditHandlers(s),
  };
}

/** Ingests an uploaded image (ahead of the watched folder) and answers as `diagnose.upload` does. */
export async function finishUpload(
  s: Pick<Services, 'engine' | 'store'>,
  bytes: Buffer,
  a: Omit<ParsedArgsOf<'diagnose.upload'>, 'dataBase64'>,
): Promise<ResultOf<'diagnose.upload'>> {
  const r = await s.engine.ingestUpload(bytes, {
    fileName: a.fileName,
    ...(a.patientId !== undefined ? { patientId: a.patientId } : {}),
    ...(a.ear !== undefined ? { ear: a.ear } : {}),
  });
  if (isSavedLocally(r)) return r;
  const d = await s.store.detail(r.id);
  if (!d) throw notFound(r.id);
  return { record: d, duplicate: r.duplicate };
}

export function suggestedCsvName(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `eardrum-export-${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}.csv`;
}

/** Writes the CSV next to the target and renames it into place, so a failed export leaves no half file. */
export async function exportCsvToFile(
  s: Pick<Services, 'store'>,
  args: ParsedArgsOf<'export.csv'>,
  target: string,
): Promise<number> {
  const tmp = path.join(
    path.dirname(target),
    `.${path.basename(target)}.${randomBytes(4).toString('hex')}.partial`,
  );
  try {
    const out = createWriteStream(tmp, { flags: 'wx' });
    const rows = await writeCsv(s.store, out, args);
    await rename(tmp, target);
    return rows;
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw toEngineError(err, `Writing ${target}`);
  }
}

/**
 * Validates the args, runs the handler and wraps the outcome in the Result envelope. Expected failures keep
 * their code; anything else becomes `internal` with the message logged, never a thrown error.
 */
export async function dispatch(
  handlers: Handlers,
  channel: string,
  raw: unknown,
  onUnexpected?: (err: unknown) => void,
): Promise<Result<unknown>> {
  if (!Object.prototype.hasOwnProperty.call(handlers, channel)) {
    return fail(ErrorCodes.unknownChannel, `There is no channel "${channel}".`);
  }
  const name = channel as ChannelName;
  const args = parseArgs(name, raw);
  if (!args.ok) return args;
  try {
    const handler = handlers[name] as (a: unknown) => Promise<unknown>;
    return { ok: true, value: await handler(args.value) };
  } catch (err) {
    const e = toEngineError(err, channel);
    if (e.code === ErrorCodes.internal) onUnexpected?.(err);
    return fail(e.code, e.message);
  }
}
