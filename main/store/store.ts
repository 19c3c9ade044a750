import type {
  CountsPerDay,
  Ear,
  ErrorInfo,
  LabelInfo,
  RecordDetail,
  RecordFilter,
  RecordPage,
  RecordSort,
  RecordSummary,
  ReviewAction,
  Settings,
  SettingsChange,
  SettingsPatch,
  VisitPage,
} from '../../common/contract.ts';
import type { Diagnosis } from '../../model/types.ts';
import type { ExportRow, ImageRow, NewImage, NewSource, ReviewedPhoto } from './record-rows.ts';

export type { ExportRow, ImageRow, NewImage, NewSource } from './record-rows.ts';

/** A model card as remembered by the store (first use wins; a given id and version never changes). */
export interface ModelCardRecord {
  id: string;
  version: string;
  labels: LabelInfo[];
  details: Record<string, unknown>;
}

export interface ReviewInput {
  recordId: number;
  action: ReviewAction;
  label?: string;
  note: string;
  reviewer: string;
  /**
   * PostgreSQL: when it was made, if not now (a review kept while the server was away, or one whose
   * commit's answer was lost with the connection). One identical to it (record, action, note, reviewer and
   * this time) is not added a second time. SQLite (never away) records the present.
   */
  createdAt?: string;
  /** Kept while the server was away: older than the record's latest review, it only joins the audit trail. */
  queued?: boolean;
}

/**
 * PostgreSQL: a patient edit made at `at` (see ReviewInput.createdAt): written once; `queued` (kept while
 * the server was away): not applied when the record has a newer patient edit (another room's meanwhile).
 */
export interface EditTime {
  at: string;
  queued: boolean;
}

/** One record changed in a shared history, as another room's notification tells it (never the row itself). */
export interface RecordChange {
  id: number;
  /** `new` (inserted), the status it moved to, or `updated` (a review, an edit, a further source). */
  kind: 'new' | 'pending' | 'done' | 'failed' | 'updated';
  /** The workstation that made the change (its application name); empty for other writers. */
  by: string;
  /** The transaction that made it, where the history tells (a change heard twice has the same one). */
  xid?: string;
}

/**
 * What a history shared by several rooms adds (PostgreSQL): claims on the photos waiting for the model, so
 * each is diagnosed by one room and a dead room's photos are taken over after their lease, and a feed of
 * other rooms' changes for the live views.
 */
export interface SharedHistory {
  /** This workstation's name in claims and notifications. */
  readonly workstation: string;
  /** Claims a pending photo for this workstation: false when it is not pending or another room's live claim holds it. */
  claimPhoto(imageId: number, leaseMs: number): Promise<boolean>;
  /** Extends every claim this workstation holds (its heartbeat); returns how many it holds. */
  renewClaims(leaseMs: number): Promise<number>;
  /** Gives up this workstation's claims (one photo, or all when stopping) so another room may take them at once. */
  releaseClaims(imageId?: number): Promise<void>;
  /** Pending photos with a stored copy whose claim is missing or expired, by id after `afterId` (a page). */
  unclaimedPending(afterId: number, limit: number): Promise<ImageRow[]>;
  /**
   * Listens for changes to records (and, with `onSettings`, to the clinic's settings, naming the writer) on a
   * connection of its own, reconnecting when it is lost; `onState` hears each loss and recovery. Resolves
   * with a function that stops listening.
   */
  listen(
    onChange: (c: RecordChange) => void,
    onState: (s: { connected: boolean; error?: string }) => void,
    onSettings?: (by: string) => void,
  ): Promise<() => Promise<void>>;
}

export interface StoreHealth {
  backend: 'sqlite' | 'postgres';
  /** Where the history lives, without any password (a file path, or `postgres://user@host:port/db`). */
  location: string;
  schemaVersion: number;
}

/**
 * What the engine and the API need from the history, whatever holds it: better-sqlite3 on one workstation
 * (`SqliteStore`), or PostgreSQL shared by several rooms (`PgStore`). Asynchronous throughout because a
 * network database is; every multi-row write is one transaction in either backend, diagnoses and reviews
 * are append-only in the database itself, and the board's columns on a record are refreshed in the same
 * transaction as the rows they summarise.
 */
export interface Store {
  readonly backend: 'sqlite' | 'postgres';
  /** Claims and change notifications between rooms; null for one workstation's own history (SQLite). */
  readonly shared: SharedHistory | null;

  // ---- labels and model cards (labels are kept in memory: they validate reviews and decide "abnormal")
  setLabels(labels: LabelInfo[]): void;
  getLabels(): LabelInfo[];
  registerModel(card: ModelCardRecord): Promise<void>;
  /** Labels of the most recently registered model (for tools that run without the model, like export). */
  latestModelLabels(): Promise<LabelInfo[]>;

  // ---- admission: sources and new records
  /** The record holding a stored photo with these bytes, if any. */
  findBySha(sha256: string): Promise<{ id: number; status: string } | undefined>;
  /** The record id a watched file was ingested as, when its size and mtime are unchanged since. */
  knownSource(filePath: string, size: number, mtimeMs: number): Promise<number | null>;
  rememberSource(filePath: string, size: number, mtimeMs: number, imageId: number): Promise<void>;
  /**
   * A new record: a stored photo (pending) or a file that failed before anything was stored. For bytes
   * already stored nothing is inserted and the holder's id comes back with `created: false`.
   */
  insertImage(img: NewImage): Promise<{ id: number; created: boolean }>;
  /** A further source of a stored photo: its own record sharing the copy, status and diagnosis. */
  addSource(primaryId: number, src: NewSource): Promise<number>;
  /** Every record of one photo (the one holding the copy first), given any of them. */
  photoRecords(id: number): Promise<ImageRow[]>;
  /** Watched files with these bytes, size and mtime (a renamed file keeps its size and mtime). */
  sourcesWithSameFile(
    sha256: string,
    size: number,
    mtimeMs: number,
  ): Promise<{ path: string; recordId: number }[]>;
  /** A watched file renamed or moved: its record follows it (audited in image_edits). */
  moveSource(
    id: number,
    from: string,
    to: { path: string; fileName: string; size: number; mtimeMs: number },
    parsed: { patientId: string | null; ear: Ear; matched: boolean },
  ): Promise<void>;

  // ---- the model's answers
  commitDiagnosis(imageId: number, d: Diagnosis, overlayPath: string | null): Promise<void>;
  markFailed(imageId: number, error: ErrorInfo): Promise<void>;
  markPending(imageId: number): Promise<void>;
  setThumbnail(imageId: number, thumbPath: string): Promise<void>;
  /** Photos waiting for the model (left by a crash or a stop), oldest first. */
  pendingImages(): Promise<ImageRow[]>;

  // ---- records, reviews, edits
  row(id: number): Promise<ImageRow | undefined>;
  summary(id: number): Promise<RecordSummary | null>;
  detail(id: number): Promise<RecordDetail | null>;
  /** Appends a review (never overwrites the model's answer). An override must name a known label. */
  addReview(input: ReviewInput): Promise<void>;
  updatePatient(id: number, patientId: string | null, ear: Ear, time?: EditTime): Promise<void>;

  /** Reviewed photos with a stored copy and their latest review's label (what "Learn from reviewed photos" uses). */
  reviewedPhotos(): Promise<ReviewedPhoto[]>;

  // ---- the board, counts, CSV
  list(args: { filter: RecordFilter; sort: RecordSort; offset: number; limit: number }): Promise<RecordPage>;
  /** The board grouped by visit (one patient's records of one day). */
  visits(args: { filter: RecordFilter; offset: number; limit: number }): Promise<VisitPage>;
  countsPerDay(filter: RecordFilter): Promise<CountsPerDay>;
  /** Every matching record in board order, as arrays in EXPORT_COLUMNS order, in batches. */
  exportRows(filter: RecordFilter, sort: RecordSort): AsyncIterable<ExportRow[]>;
  counts(): Promise<{ total: number; done: number; failed: number; pending: number }>;

  // ---- settings (one JSON value per key; threshold changes audited)
  getSettings(): Promise<Settings>;
  updateSettings(patch: SettingsPatch, changedBy?: string): Promise<Settings>;
  settingsChanges(): Promise<SettingsChange[]>;

  // ---- upkeep
  /** A backup when one is due (SQLite: a daily file; PostgreSQL: the server's own backups, so none). */
  backupIfDue(): Promise<string | null>;
  health(): Promise<StoreHealth>;
  /** Resolves when the database answers a trivial query (how a lost server is found back). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
