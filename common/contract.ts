/**
 * The one API contract between the renderer and the engine.
 *
 * Every call is a channel: a name mapped to a zod schema for its arguments and one for its result.
 * Three transports carry the same channels and must agree byte for byte on the JSON:
 *   - Electron IPC: `ipcMain.handle(channel)` / `ipcRenderer.invoke(channel, args)` behind a narrow preload
 *     that exposes one named method per channel (see `apiMethods`).
 *   - The HTTP bridge of `eardrum serve`: `POST /api/<channel>` with the JSON args as the body; the response
 *     body is always a `Result` (HTTP status mirrors it: 200 ok, 4xx/5xx with `ok: false`).
 *   - Live events: IPC channel `engine.event`, or Server-Sent Events at `GET /api/events` (one JSON
 *     `EngineEvent` per `data:` line, default `message` event).
 * Errors never travel as thrown exceptions (Electron strips them): every result is `Result<T>`.
 *
 * The schemas live by subject in contract/ (results, records, settings, learning) and are re-exported here;
 * this file holds the channels, the renderer's API and the URLs. Import from this file only.
 *
 * This module is imported by the renderer: it must stay free of Node, Electron and engine imports.
 * Changes are additive only; names already here are never renamed.
 */
import { z } from 'zod';
import { ErrorCodes, MAX_REQUEST_BYTES, fail, type Result } from './contract/results.ts';
import {
  countsPerDaySchema,
  earSchema,
  listRecordsArgsSchema,
  recordDetailSchema,
  recordFilterSchema,
  recordPageSchema,
  recordSortSchema,
  recordSummarySchema,
  reviewActionSchema,
  visitPageSchema,
} from './contract/records.ts';
import {
  appInfoSchema,
  languageSchema,
  modelCardViewSchema,
  patternPreviewSchema,
  settingsChangeSchema,
  settingsPatchSchema,
  settingsSchema,
} from './contract/settings.ts';
import { EngineEvent, adaptJobSchema, learningSummarySchema } from './contract/learning.ts';
import {
  databaseStatusSchema,
  databaseTestArgsSchema,
  databaseTestResultSchema,
  databaseUseArgsSchema,
} from './contract/database.ts';
import { editSavedLocallySchema, uploadSavedLocallySchema } from './contract/saved-locally.ts';

export const CONTRACT_VERSION = 1;

export * from './contract/results.ts';
export * from './contract/records.ts';
export * from './contract/settings.ts';
export * from './contract/learning.ts';
export * from './contract/database.ts';
export * from './contract/saved-locally.ts';

// ---------------------------------------------------------------------------------------------------------
// Channels

const empty = z.object({}).default({});

export const addReviewArgsSchema = z
  .object({
    recordId: z.number().int(),
    action: reviewActionSchema,
    /** Required for `override`; ignored for `confirm` (the model's label is recorded). */
    label: z.string().min(1).max(64).optional(),
    note: z.string().max(2000).default(''),
    reviewer: z.string().trim().min(1).max(100),
  })
  .refine((a) => a.action === 'confirm' || a.label !== undefined, {
    message: 'an override needs a label',
    path: ['label'],
  });

export const exportCsvArgsSchema = z.object({
  filter: recordFilterSchema.default({}),
  sort: recordSortSchema.default({ field: 'capturedAt', direction: 'asc' }),
  /** Column header language; the data itself is language-neutral ids. */
  language: languageSchema.default('en'),
});

export const channels = {
  /** Versions, folders, model summary and engine status. */
  'app.info': { args: empty, result: appInfoSchema },
  'model.card': { args: empty, result: modelCardViewSchema },
  /** One page of the board. */
  'records.list': { args: listRecordsArgsSchema, result: recordPageSchema },
  'records.get': { args: z.object({ id: z.number().int() }), result: recordDetailSchema },
  /** The board grouped by visit (patient and day); records without a patient id are counted, not listed. */
  'records.visits': {
    args: z.object({
      filter: recordFilterSchema.default({}),
      offset: z.number().int().min(0).default(0),
      limit: z.number().int().min(1).max(200).default(50),
    }),
    result: visitPageSchema,
  },
  'records.countsPerDay': {
    args: z.object({ filter: recordFilterSchema.default({}) }),
    result: countsPerDaySchema,
  },
  /**
   * Sets patient id and ear by hand (null patient clears it). While the clinic database is unreachable:
   * kept locally (`savedLocally`), written with its original time once the server is back.
   */
  'records.updatePatient': {
    args: z.object({
      id: z.number().int(),
      patientId: z.string().trim().max(128).nullable(),
      ear: earSchema,
    }),
    result: z.union([recordDetailSchema, editSavedLocallySchema]),
  },
  /**
   * Appends a review; the model's original answer is never changed. While the clinic database is
   * unreachable: kept locally (`savedLocally`), written with its original time and reviewer once it is back.
   */
  'reviews.add': { args: addReviewArgsSchema, result: z.union([recordDetailSchema, editSavedLocallySchema]) },
  /**
   * Diagnoses an image chosen by hand. It is stored in the library like a watched file; the same bytes
   * return the existing record with `duplicate: true`. While the clinic database is unreachable the photo
   * is diagnosed from its copy and kept locally with the answer (`savedLocally`), written once it is back.
   */
  'diagnose.upload': {
    args: z.object({
      fileName: z.string().min(1).max(255),
      /** Base64 of the file's bytes, at most MAX_IMAGE_BYTES decoded. */
      dataBase64: z.string().min(1).max(MAX_REQUEST_BYTES),
      patientId: z.string().trim().max(128).nullable().optional(),
      ear: earSchema.optional(),
    }),
    result: z.union([
      z.object({ record: recordDetailSchema, duplicate: z.boolean() }),
      uploadSavedLocallySchema,
    ]),
  },
  'settings.get': { args: empty, result: settingsSchema },
  /** Applies the given fields (validated as a whole) and restarts the watcher when folder options changed. */
  'settings.update': { args: settingsPatchSchema, result: settingsSchema },
  /**
   * Changes one threshold (null: back to the model card's value) and records who did it and when. Only
   * the names in EDITABLE_THRESHOLDS; others answer `invalid_args`.
   */
  'settings.changeThreshold': {
    args: z.object({
      name: z.string().min(1).max(64),
      value: z.number().min(0).max(1).nullable(),
      changedBy: z.string().trim().min(1).max(100),
    }),
    result: settingsSchema,
  },
  /** Every recorded threshold change, newest first. */
  'settings.changes': { args: empty, result: z.array(settingsChangeSchema) },
  /** Parses a sample path with a pattern without saving anything. */
  'settings.previewPattern': {
    args: z.object({ pattern: z.string().min(1).max(500), sample: z.string().min(1).max(1024) }),
    result: patternPreviewSchema,
  },
  /**
   * CSV of every record matching the filter. Electron: main asks for the path with a save dialog, writes
   * the file and returns it (`path` null when the user cancelled). HTTP: use `exportCsvUrl` (a download).
   */
  'export.csv': {
    args: exportCsvArgsSchema,
    result: z.object({ path: z.string().nullable(), rows: z.number().int() }),
  },
  /**
   * Electron only: prints the window's current page (the report view) to PDF with `webContents.printToPDF`,
   * asks where to save it and writes it; `path` null when the user cancelled. The HTTP bridge answers
   * `unsupported` (a browser prints the report with its own print dialog, "Save as PDF").
   */
  'report.savePdf': {
    args: z.object({
      suggestedName: z.string().regex(/^[\w.-]{1,120}\.pdf$/, 'a plain file name ending in .pdf'),
    }),
    result: z.object({ path: z.string().nullable() }),
  },
  /** Electron only (folder picker); the HTTP bridge answers `unsupported`. */
  'dialog.chooseWatchDir': { args: empty, result: z.object({ path: z.string().nullable() }) },
  /** Re-queues a failed record from its stored copy (e.g. after a model update). */
  'records.retry': { args: z.object({ id: z.number().int() }), result: recordSummarySchema },
  /** Reviewed photos per label, the models to choose from, and the adaptation job. */
  'learn.summary': { args: empty, result: learningSummarySchema },
  /**
   * Starts adapting the shipped model to the reviewed photos in the model worker (results keep coming);
   * progress arrives as `learn.progress` events. `invalid_args` when there are too few photos, `busy`
   * when a job is running or waiting for a decision.
   */
  'learn.start': { args: empty, result: adaptJobSchema },
  /** Stops a running job; nothing is kept. */
  'learn.cancel': { args: empty, result: adaptJobSchema },
  /** "Use this model" (`use: true`) or "Keep the current one" (`use: false`, the new model is deleted). */
  'learn.decide': { args: z.object({ use: z.boolean() }), result: learningSummarySchema },
  /** Switches to a model of `learn.summary`'s list (the shipped one to go back). New results use it. */
  'models.use': { args: z.object({ id: z.string().min(1).max(200) }), result: learningSummarySchema },
  /** Settings → Clinic database: the history in use, the one the next start uses, where passwords are kept. */
  'database.status': { args: empty, result: databaseStatusSchema },
  /**
   * Connects to a PostgreSQL with the given password and reads its schema version; changes nothing. Fails
   * with a `database.*` code (unreachable, wrong_password, not_allowed, missing, schema_newer).
   */
  'database.test': { args: databaseTestArgsSchema, result: databaseTestResultSchema },
  /**
   * Saves which history the next start uses (in the data folder, not in the history): a PostgreSQL (tested
   * first, the password kept in the keychain or a private file) or this workstation's own SQLite file.
   */
  'database.use': { args: databaseUseArgsSchema, result: databaseStatusSchema },
  /** Electron only: a folder picker for the shared library folder; the HTTP bridge answers `unsupported`. */
  'dialog.chooseLibraryDir': { args: empty, result: z.object({ path: z.string().nullable() }) },
} as const satisfies Record<string, { args: z.ZodType; result: z.ZodType }>;

export type Channels = typeof channels;
export type ChannelName = keyof Channels;
/** What a caller passes (defaults may be omitted). */
export type ArgsOf<C extends ChannelName> = z.input<Channels[C]['args']>;
/** What a handler receives after validation (defaults filled in). */
export type ParsedArgsOf<C extends ChannelName> = z.output<Channels[C]['args']>;
export type ResultOf<C extends ChannelName> = z.output<Channels[C]['result']>;

export const channelNames = Object.keys(channels) as ChannelName[];

export function isChannelName(name: string): name is ChannelName {
  return Object.prototype.hasOwnProperty.call(channels, name);
}

/** Handlers on the main side: one per channel, given validated args. */
export type Handlers = { [C in ChannelName]: (args: ParsedArgsOf<C>) => Promise<ResultOf<C>> };

/** IPC channel for pushed engine events (main → renderer). */
export const EVENT_CHANNEL = 'engine.event';

/** Named methods of the renderer-facing API (the narrow preload exposes exactly these). */
export const apiMethods = {
  appInfo: 'app.info',
  modelCard: 'model.card',
  listRecords: 'records.list',
  getRecord: 'records.get',
  countsPerDay: 'records.countsPerDay',
  listVisits: 'records.visits',
  updatePatient: 'records.updatePatient',
  addReview: 'reviews.add',
  diagnoseUpload: 'diagnose.upload',
  getSettings: 'settings.get',
  updateSettings: 'settings.update',
  previewPattern: 'settings.previewPattern',
  changeThreshold: 'settings.changeThreshold',
  settingsChanges: 'settings.changes',
  exportCsv: 'export.csv',
  chooseWatchDir: 'dialog.chooseWatchDir',
  saveReportPdf: 'report.savePdf',
  retryRecord: 'records.retry',
  learningSummary: 'learn.summary',
  startLearning: 'learn.start',
  cancelLearning: 'learn.cancel',
  decideLearning: 'learn.decide',
  useModel: 'models.use',
  databaseStatus: 'database.status',
  testDatabase: 'database.test',
  useDatabase: 'database.use',
  chooseLibraryDir: 'dialog.chooseLibraryDir',
} as const satisfies Record<string, ChannelName>;

export type ApiMethodName = keyof typeof apiMethods;

export type EardrumApi = {
  [M in ApiMethodName]: (
    args: ArgsOf<(typeof apiMethods)[M]>,
  ) => Promise<Result<ResultOf<(typeof apiMethods)[M]>>>;
} & {
  /** Subscribes to live engine events; returns the unsubscribe function. */
  onEvent(listener: (event: EngineEvent) => void): () => void;
};

// ---------------------------------------------------------------------------------------------------------
// URLs (HTTP bridge and Electron custom protocol)

export const fileKindSchema = z.enum(['original', 'thumbnail', 'overlay']);
export type FileKind = z.infer<typeof fileKindSchema>;

/** Custom protocol registered by the Electron shell; files are `eardrum-file://app/files/<kind>/<id>`. */
export const FILE_PROTOCOL = 'eardrum-file';
export const FILE_PROTOCOL_BASE = `${FILE_PROTOCOL}://app`;

export const HTTP_API_PREFIX = '/api/';
export const HTTP_EVENTS_PATH = '/api/events';
export const HTTP_EXPORT_PATH = '/api/export.csv';
/**
 * HTTP only, for a bridge bound beyond loopback with a password: `POST` `{ password }` → `Result<{ token }>`.
 * Wrong passwords answer 401; too many from one address answer 429 for a minute.
 */
export const HTTP_LOGIN_PATH = '/api/auth.login';
export const loginArgsSchema = z.object({ password: z.string().max(1024) });
export const loginResultSchema = z.object({ token: z.string() });
/**
 * Query parameter of the URL `eardrum serve` prints. Opening it trades the token for an HttpOnly,
 * SameSite=Strict session cookie and redirects to the same page without it; after that the page, its
 * images, events and downloads authenticate with the cookie. Scripts send `Authorization: Bearer <token>`.
 * `/api` and `/files` do not read the token from the query (it would stay in URLs, history and logs).
 */
export const TOKEN_QUERY = 'token';

/** `/files/<kind>/<id>`: the path both transports understand. */
export function filePath(kind: FileKind, id: number): string {
  return `/files/${kind}/${id}`;
}

/**
 * URL of a stored image. HTTP: `fileUrl(kind, id, { base: 'http://127.0.0.1:8400', token })`;
 * Electron: `fileUrl(kind, id, { base: FILE_PROTOCOL_BASE })`.
 */
export function fileUrl(kind: FileKind, id: number, opts: { base: string; token?: string }): string {
  return withToken(`${opts.base.replace(/\/+$/, '')}${filePath(kind, id)}`, opts.token);
}

/** `GET /api/events?token=...` for EventSource. */
export function eventsUrl(opts: { base: string; token?: string }): string {
  return withToken(`${opts.base.replace(/\/+$/, '')}${HTTP_EVENTS_PATH}`, opts.token);
}

/**
 * `GET /api/export.csv?token=...&args=<JSON of export.csv args>`: the CSV as an attachment
 * (`POST /api/export.csv` with the JSON body answers the same download).
 */
export function exportCsvUrl(args: ArgsOf<'export.csv'>, opts: { base: string; token?: string }): string {
  const url = `${opts.base.replace(/\/+$/, '')}${HTTP_EXPORT_PATH}?args=${encodeURIComponent(JSON.stringify(args))}`;
  return withToken(url, opts.token);
}

function withToken(url: string, token: string | undefined): string {
  if (!token) return url;
  return `${url}${url.includes('?') ? '&' : '?'}${TOKEN_QUERY}=${encodeURIComponent(token)}`;
}

/** Parses and validates a channel's args; returns the invalid_args error in the envelope on failure. */
export function parseArgs<C extends ChannelName>(channel: C, raw: unknown): Result<ParsedArgsOf<C>> {
  const parsed = channels[channel].args.safeParse(raw ?? {});
  if (parsed.success) return { ok: true, value: parsed.data as ParsedArgsOf<C> };
  const first = parsed.error.issues[0];
  const where = first && first.path.length > 0 ? `${first.path.join('.')}: ` : '';
  return fail(
    ErrorCodes.invalidArgs,
    `Invalid arguments for ${channel}: ${where}${first?.message ?? 'invalid'}`,
  );
}
