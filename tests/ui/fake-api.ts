/**
 * An in-memory stand-in for the engine behind the renderer's ApiClient: it answers every contract
 * channel from a list of records, validates arguments with the contract's own schemas, records calls,
 * and can push engine events, so the views are tested against the real contract shapes.
 */
import {
  channels,
  parseArgs,
  type ArgsOf,
  type DatabaseStatus,
  type ChannelName,
  type EngineEvent,
  type AdaptJob,
  type EngineStatus,
  type LearningSummary,
  type ModelCardView,
  type ModelEntry,
  type RecordDetail,
  type RecordSummary,
  type Result,
  type ResultOf,
  type Review,
  type Settings,
  type SettingsChange,
} from '../../common/contract.ts';
import type { ApiClient, ExportOutcome } from '../../renderer/api/client.ts';

/** When the writes kept while the clinic database was away were made. */
const AWAY_AT = '2026-11-30T09:15:00.000Z';

export const LABELS = [
  { id: 'normal', en: 'Normal eardrum', ko: '정상 고막', abnormal: false },
  { id: 'aom', en: 'Acute otitis media', ko: '급성 중이염', abnormal: true },
  { id: 'effusion', en: 'Middle-ear effusion', ko: '중이 삼출액', abnormal: true },
  { id: 'earwax', en: 'Earwax', ko: '귀지', abnormal: true },
];

export const CARD: ModelCardView = {
  id: 'eardrum-mnv2',
  version: '1.2.0',
  backend: 'wasm',
  labels: LABELS,
  thresholds: { eardrum: 0.5 },
  details: {
    intendedUse: 'Decision support for otoscopy',
    metrics: { macroF1: 0.81, balancedAccuracy: 0.84 },
    licences: ['Apache-2.0 (code)', 'CC BY 4.0 (OtoMatch images)'],
  },
};

export function idleStatus(over: Partial<EngineStatus> = {}): EngineStatus {
  return {
    state: 'running',
    watching: true,
    error: null,
    queued: 0,
    processing: 0,
    done: 0,
    failed: 0,
    duplicates: 0,
    etaMs: null,
    avgProcessMs: null,
    database: { state: 'connected', since: null, waiting: 0 },
    ...over,
  };
}

let nextId = 1;

export function makeRecord(over: Partial<RecordSummary> = {}): RecordSummary {
  const id = over.id ?? nextId++;
  const gate = over.gate === undefined ? 'eardrum' : over.gate;
  const modelLabel = over.modelLabel === undefined ? (gate === 'eardrum' ? 'aom' : null) : over.modelLabel;
  const reviewedLabel = over.reviewedLabel ?? null;
  return {
    id,
    sha256: `sha${id}`.padEnd(64, '0'),
    fileName: `P${id}_L_20261125.jpg`,
    originalPath: `/inbox/P${id}_L_20261125.jpg`,
    source: 'watch',
    capturedAt: '2026-11-25T09:30:00.000Z',
    ingestedAt: '2026-11-25T09:30:01.000Z',
    status: 'done',
    failure: null,
    patientId: `P${id}`,
    ear: 'left',
    gate,
    gateReason: null,
    modelLabel,
    confidence: modelLabel ? 0.87 : null,
    decision: gate === 'eardrum' && modelLabel ? 'confident' : null,
    reviewedLabel,
    effectiveLabel: reviewedLabel ?? modelLabel,
    abnormal: modelLabel ? modelLabel !== 'normal' : null,
    reviewed: reviewedLabel !== null,
    reviewCount: 0,
    lastReviewer: null,
    width: 500,
    height: 500,
    hasOverlay: gate === 'eardrum',
    hasOriginal: true,
    hasThumbnail: true,
    ...over,
  };
}

export function probabilitiesFor(label: string | null, top = 0.87): Record<string, number> {
  if (!label) return {};
  const rest = (1 - top) / (LABELS.length - 1);
  return Object.fromEntries(LABELS.map((l) => [l.id, l.id === label ? top : rest]));
}

export interface Call {
  channel: ChannelName;
  args: unknown;
}

export const IDLE_JOB: AdaptJob = {
  state: 'idle',
  phase: null,
  done: 0,
  total: 0,
  startedAt: null,
  photosPerLabel: {},
  candidate: null,
  error: null,
};

export const SHIPPED_MODEL: ModelEntry = {
  id: CARD.id,
  version: CARD.version,
  kind: 'shipped',
  createdAt: '2026-11-26T00:00:00.000Z',
  baseId: null,
  photosPerLabel: {},
  comparison: null,
  active: true,
};

export const ADAPTED_MODEL: ModelEntry = {
  id: `${CARD.id}-adapted-20261130-090000`,
  version: '1.0.0',
  kind: 'adapted',
  createdAt: '2026-11-30T09:00:00.000Z',
  baseId: CARD.id,
  photosPerLabel: { normal: 12, earwax: 5 },
  comparison: {
    folds: 5,
    photos: 17,
    before: { right: 9, rejected: 3 },
    after: { right: 15, rejected: 0 },
    perLabel: [
      { label: 'normal', photos: 12, before: { right: 8, rejected: 2 }, after: { right: 11, rejected: 0 } },
      { label: 'earwax', photos: 5, before: { right: 1, rejected: 1 }, after: { right: 4, rejected: 0 } },
    ],
  },
  active: false,
};

export class FakeApi implements ApiClient {
  transport: 'electron' | 'http' = 'http';
  records: RecordSummary[] = [];
  reviews = new Map<number, Review[]>();
  changes: SettingsChange[] = [];
  settings: Settings = {
    watchDir: '/inbox',
    recursive: true,
    usePolling: false,
    pollIntervalMs: 1000,
    fileNamePattern: '{patient}_{ear}_{date}*',
    thresholds: {},
    language: 'en',
    reviewerName: 'Dr. Kim',
    clinicName: '',
  };
  /** Where `report.savePdf` says it saved (Electron); null: cancelled. */
  pdfPath: string | null = '/home/dr/report.pdf';
  status = idleStatus();
  learning: LearningSummary = {
    reviewed: [
      { label: 'normal', photos: 12 },
      { label: 'aom', photos: 2 },
      { label: 'effusion', photos: 0 },
      { label: 'earwax', photos: 5 },
    ],
    minPerLabel: 3,
    minTotal: 6,
    usable: 17,
    canStart: true,
    models: [SHIPPED_MODEL],
    activeModelId: CARD.id,
    job: IDLE_JOB,
  };
  /** Settings → Clinic database: what is in use, and the one password the fake server accepts. */
  database: DatabaseStatus = {
    current: { kind: 'sqlite', file: '/data/eardrum.sqlite' },
    source: 'default',
    next: { kind: 'sqlite', file: '/data/eardrum.sqlite' },
    passwordKept: 'file',
    passwordFile: '/data/database-password',
    library: {
      current: { dir: '/data/library', shared: false },
      source: 'default',
      next: { dir: '/data/library', shared: false },
    },
  };
  databasePassword = 'right-pw';
  /** The one library folder the fake clinic database recognises; any other holds none of its photos. */
  clinicLibrary = '/mnt/clinic/eardrum-library';
  calls: Call[] = [];
  exports: ArgsOf<'export.csv'>[] = [];
  /** Channels that answer with this error instead. */
  failures = new Map<ChannelName, { code: string; message: string }>();
  /** The clinic database away: uploads, reviews and patient edits answer "saved locally". */
  databaseAway = false;
  private listeners = new Set<(e: EngineEvent) => void>();

  constructor(records: RecordSummary[] = []) {
    this.records = records;
  }

  emit(event: EngineEvent): void {
    for (const l of this.listeners) l(event);
  }

  onEvent(listener: (e: EngineEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  fileUrl(kind: string, id: number): string {
    return `http://fake/files/${kind}/${id}`;
  }

  async exportCsv(args: ArgsOf<'export.csv'>): Promise<Result<ExportOutcome>> {
    this.exports.push(args);
    const parsed = parseArgs('export.csv', args);
    if (!parsed.ok) return parsed;
    return {
      ok: true,
      value: { path: null, rows: this.filtered(parsed.value.filter).length, cancelled: false },
    };
  }

  callsTo(channel: ChannelName): unknown[] {
    return this.calls.filter((c) => c.channel === channel).map((c) => c.args);
  }

  detail(id: number): RecordDetail | null {
    const record = this.records.find((r) => r.id === id);
    if (!record) return null;
    return {
      record,
      image: { sizeBytes: 12345, width: record.width, height: record.height, format: 'jpeg' },
      diagnosis:
        record.status === 'done' && record.gate
          ? {
              id: record.id,
              modelId: CARD.id,
              modelVersion: CARD.version,
              backend: 'wasm',
              gate: record.gate,
              gateReason: record.gateReason,
              eardrumProbability: record.gate === 'not_eardrum' ? 0.04 : 0.98,
              label: record.modelLabel,
              probabilities:
                record.gate === 'eardrum'
                  ? probabilitiesFor(record.modelLabel, record.confidence ?? undefined)
                  : {},
              decision: record.decision,
              notSureReasons: record.decision === 'not_sure' ? ['low_confidence', 'unfamiliar'] : [],
              unfamiliarity: record.gate === 'eardrum' ? 0.2 : null,
              heatmap: null,
              timings: { decodeMs: 10, inferenceMs: 80, totalMs: 95 },
              createdAt: record.ingestedAt,
            }
          : null,
      reviews: this.reviews.get(id) ?? [],
    };
  }

  filtered(filter: ArgsOf<'records.list'>['filter'] = {}): RecordSummary[] {
    return this.records.filter((r) => {
      if (filter?.labels && !filter.labels.includes(r.effectiveLabel ?? '')) return false;
      if (filter?.gates && !filter.gates.includes(r.gate as never)) return false;
      if (filter?.statuses && !filter.statuses.includes(r.status)) return false;
      if (filter?.ear && r.ear !== filter.ear) return false;
      if (filter?.patientId && r.patientId !== filter.patientId) return false;
      if (filter?.from && r.capturedAt.slice(0, 10) < filter.from.slice(0, 10)) return false;
      if (filter?.to && r.capturedAt.slice(0, 10) > filter.to.slice(0, 10)) return false;
      if (filter?.reviewed !== undefined && r.reviewed !== filter.reviewed) return false;
      if (filter?.decision && r.decision !== filter.decision) return false;
      if (filter?.text && !`${r.fileName} ${r.patientId}`.toLowerCase().includes(filter.text.toLowerCase()))
        return false;
      return true;
    });
  }

  async call<C extends ChannelName>(channel: C, args: ArgsOf<C>): Promise<Result<ResultOf<C>>> {
    this.calls.push({ channel, args });
    const failure = this.failures.get(channel);
    if (failure) return { ok: false, error: failure };
    const parsed = parseArgs(channel, args);
    if (!parsed.ok) return parsed;
    const value = this.answer(channel, parsed.value as never);
    if (value && typeof value === 'object' && 'error' in value && 'ok' in value) return value as never;
    // Answers are checked against the contract too, so the fake cannot drift from it.
    return { ok: true, value: channels[channel].result.parse(value) as ResultOf<C> };
  }

  private answer(channel: ChannelName, a: Record<string, unknown>): unknown {
    const notFound = { ok: false, error: { code: 'not_found', message: 'no such record' } };
    switch (channel) {
      case 'database.status':
        return this.database;
      case 'database.test':
      case 'database.use': {
        const ownLibrary = { dir: '/data/library', shared: false };
        if (a.kind === 'sqlite') {
          const library = { ...this.database.library, next: ownLibrary };
          this.database = { ...this.database, next: this.database.current, library };
          return this.database;
        }
        if (a.password !== this.databasePassword)
          return { ok: false, error: { code: 'database.wrong_password', message: 'password refused' } };
        const dir = typeof a.library === 'string' ? a.library : null;
        if (dir !== null && dir !== this.clinicLibrary)
          return { ok: false, error: { code: 'library.wrong_share', message: `${dir} lacks the photos` } };
        const u = new URL(String(a.url));
        const db = {
          kind: 'postgres' as const,
          host: u.hostname,
          port: Number(u.port || 5432),
          database: u.pathname.slice(1),
          user: u.username,
        };
        if (channel === 'database.test')
          return {
            database: db,
            serverVersion: '15.8',
            schema: 'empty',
            library: dir ? { dir, photos: 'none_yet' } : null,
          };
        const next = dir ? { dir, shared: true } : ownLibrary;
        this.database = { ...this.database, next: db, library: { ...this.database.library, next } };
        return this.database;
      }
      case 'app.info':
        return {
          appVersion: '0.1.0',
          contractVersion: 1,
          transport: this.transport,
          dataDir: '/data',
          watchDir: this.settings.watchDir,
          model: { id: CARD.id, version: CARD.version, backend: 'wasm', labelCount: LABELS.length },
          engine: this.status,
        };
      case 'model.card':
        return CARD;
      case 'records.list': {
        const { filter, sort, offset, limit } = a as unknown as ArgsOf<'records.list'> & {
          offset: number;
          limit: number;
          sort: { field: keyof RecordSummary; direction: 'asc' | 'desc' };
        };
        const rows = [...this.filtered(filter)];
        const dir = sort.direction === 'asc' ? 1 : -1;
        rows.sort((x, y) => {
          const vx = x[sort.field] ?? '';
          const vy = y[sort.field] ?? '';
          return (vx < vy ? -1 : vx > vy ? 1 : x.id - y.id) * dir;
        });
        return { items: rows.slice(offset, offset + limit), total: rows.length, offset, limit };
      }
      case 'records.get':
        return this.detail(a.id as number) ?? notFound;
      case 'records.visits': {
        const { filter, offset, limit } = a as unknown as {
          filter: ArgsOf<'records.list'>['filter'];
          offset: number;
          limit: number;
        };
        const groups = new Map<string, RecordSummary[]>();
        for (const r of this.filtered(filter)) {
          if (!r.patientId) continue;
          const key = `${r.patientId}\u0000${r.capturedAt.slice(0, 10)}`;
          groups.set(key, [...(groups.get(key) ?? []), r]);
        }
        const visits = [...groups.values()]
          .map((rs) => rs.sort((x, y) => (x.capturedAt < y.capturedAt ? -1 : 1)))
          .sort((x, y) => (x.at(-1)!.capturedAt < y.at(-1)!.capturedAt ? 1 : -1))
          .map((rs) => ({
            patientId: rs[0]!.patientId!,
            day: rs[0]!.capturedAt.slice(0, 10),
            firstCapturedAt: rs[0]!.capturedAt,
            lastCapturedAt: rs.at(-1)!.capturedAt,
            count: rs.length,
            left: rs.filter((r) => r.ear === 'left').at(-1) ?? null,
            right: rs.filter((r) => r.ear === 'right').at(-1) ?? null,
            unknownEar: rs.filter((r) => r.ear === 'unknown').length,
          }));
        return {
          items: visits.slice(offset, offset + limit),
          total: visits.length,
          offset,
          limit,
          withoutPatient: this.filtered(filter).filter((r) => !r.patientId).length,
        };
      }
      case 'report.savePdf':
        return this.transport === 'electron'
          ? { path: this.pdfPath }
          : { ok: false, error: { code: 'unsupported', message: 'Saving a PDF needs the desktop app.' } };
      case 'records.countsPerDay': {
        const rows = this.filtered(a.filter as never);
        const days = new Map<string, Record<string, number>>();
        for (const r of rows) {
          const day = r.capturedAt.slice(0, 10);
          const key =
            r.status === 'done'
              ? r.gate === 'eardrum'
                ? (r.effectiveLabel ?? 'normal')
                : r.gate!
              : r.status;
          const counts = days.get(day) ?? {};
          counts[key] = (counts[key] ?? 0) + 1;
          days.set(day, counts);
        }
        const keys = [...new Set([...days.values()].flatMap((c) => Object.keys(c)))];
        return {
          keys,
          days: [...days.entries()].map(([day, counts]) => ({
            day,
            counts,
            total: Object.values(counts).reduce((s, n) => s + n, 0),
          })),
        };
      }
      case 'records.updatePatient': {
        if (this.databaseAway)
          return { savedLocally: true, at: AWAY_AT, waiting: 2, recordId: a.id as number };
        const r = this.records.find((x) => x.id === a.id);
        if (!r) return notFound;
        r.patientId = a.patientId as string | null;
        r.ear = a.ear as RecordSummary['ear'];
        return this.detail(r.id);
      }
      case 'reviews.add': {
        if (this.databaseAway)
          return { savedLocally: true, at: AWAY_AT, waiting: 1, recordId: a.recordId as number };
        const r = this.records.find((x) => x.id === a.recordId);
        if (!r) return notFound;
        const list = this.reviews.get(r.id) ?? [];
        const label = a.action === 'confirm' ? r.modelLabel : (a.label as string);
        list.push({
          id: list.length + 1,
          recordId: r.id,
          action: a.action as 'confirm' | 'override',
          label,
          note: a.note as string,
          reviewer: a.reviewer as string,
          createdAt: '2026-11-25T10:00:00.000Z',
        });
        this.reviews.set(r.id, list);
        Object.assign(r, {
          reviewedLabel: label,
          effectiveLabel: label,
          reviewed: true,
          reviewCount: list.length,
          lastReviewer: a.reviewer,
        });
        return this.detail(r.id);
      }
      case 'diagnose.upload': {
        if (this.databaseAway)
          return {
            savedLocally: true,
            at: AWAY_AT,
            waiting: 3,
            fileName: a.fileName as string,
            answer: { gate: 'eardrum', label: 'aom', confidence: 0.87, decision: 'confident' },
            failure: null,
          };
        const r = makeRecord({ fileName: a.fileName as string, source: 'upload', modelLabel: 'normal' });
        this.records.unshift(r);
        return { record: this.detail(r.id), duplicate: false };
      }
      case 'settings.get':
        return this.settings;
      case 'settings.update':
        this.settings = { ...this.settings, ...a };
        return this.settings;
      case 'settings.changeThreshold': {
        if (a.name !== 'eardrum') {
          return { ok: false, error: { code: 'invalid_args', message: 'only eardrum can be changed' } };
        }
        const thresholds = { ...this.settings.thresholds };
        const before = thresholds[a.name as string] ?? null;
        if (a.value === null) delete thresholds[a.name as string];
        else thresholds[a.name as string] = a.value as number;
        this.settings = { ...this.settings, thresholds };
        this.changes.unshift({
          id: this.changes.length + 1,
          key: `thresholds.${String(a.name)}`,
          oldValue: before,
          newValue: (a.value as number | null) ?? null,
          changedBy: a.changedBy as string,
          changedAt: '2026-11-25T11:00:00.000Z',
        });
        return this.settings;
      }
      case 'settings.changes':
        return this.changes;
      case 'settings.previewPattern': {
        if (String(a.pattern).startsWith('re:(')) {
          return {
            matched: false,
            patientId: null,
            ear: 'unknown',
            capturedAt: null,
            error: { code: 'invalid_args', message: 'Unterminated group' },
          };
        }
        const m = /^([A-Za-z0-9]+)_([LR])_/.exec(String(a.sample));
        return m
          ? {
              matched: true,
              patientId: m[1],
              ear: m[2] === 'L' ? 'left' : 'right',
              capturedAt: null,
              error: null,
            }
          : { matched: false, patientId: null, ear: 'unknown', capturedAt: null, error: null };
      }
      case 'export.csv':
        return { path: '/tmp/out.csv', rows: this.filtered(a.filter as never).length };
      case 'dialog.chooseWatchDir':
        return { path: '/chosen/folder' };
      case 'dialog.chooseLibraryDir':
        return { path: this.clinicLibrary };
      case 'records.retry': {
        const r = this.records.find((x) => x.id === a.id);
        return r ?? notFound;
      }
      case 'learn.summary':
        return this.learning;
      case 'learn.start': {
        const job: AdaptJob = {
          ...IDLE_JOB,
          state: 'running',
          startedAt: '2026-11-30T09:00:00.000Z',
          photosPerLabel: { normal: 12, earwax: 5 },
        };
        this.learning = { ...this.learning, canStart: false, job };
        return job;
      }
      case 'learn.cancel':
        this.learning = { ...this.learning, canStart: true, job: IDLE_JOB };
        return IDLE_JOB;
      case 'learn.decide': {
        const candidate = this.learning.job.candidate;
        if (!candidate) return { ok: false, error: { code: 'invalid_args', message: 'nothing waiting' } };
        const models = a.use
          ? [...this.learning.models.map((m) => ({ ...m, active: false })), { ...candidate, active: true }]
          : this.learning.models;
        this.learning = {
          ...this.learning,
          models,
          activeModelId: a.use ? candidate.id : this.learning.activeModelId,
          canStart: true,
          job: IDLE_JOB,
        };
        return this.learning;
      }
      case 'models.use': {
        if (!this.learning.models.some((m) => m.id === a.id)) return notFound;
        this.learning = {
          ...this.learning,
          activeModelId: a.id as string,
          models: this.learning.models.map((m) => ({ ...m, active: m.id === a.id })),
        };
        return this.learning;
      }
    }
  }
}
