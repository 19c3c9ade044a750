import type { Settings } from '../../common/contract.ts';
import type { ImageLibrary } from '../library/library.ts';
import type { Diagnoser } from '../model/diagnoser.ts';
import type { Outbox } from '../store/outbox.ts';
import type { Store } from '../store/store.ts';
import type { Logger } from '../util/logger.ts';
import type { PatternMatcher } from './pattern-matcher.ts';

/** What the engine (ingest/engine.ts) is built from, and its timing knobs. */
export interface EngineOptions {
  store: Store;
  library: ImageLibrary;
  diagnoser: Diagnoser;
  /** Reads patient, ear and date from file names (in a worker thread, with a time limit). */
  patterns: PatternMatcher;
  settings: Settings;
  /** The data folder: never watched even if it sits inside the watched folder. */
  dataDir: string;
  logger?: Logger;
  /** A file must keep its size and mtime this long before it is read (ms). */
  stabilityMs?: number;
  /** A JPEG/PNG without its end marker is given this long after its last change to be completed (ms). */
  incompleteGraceMs?: number;
  /** Retries of a file whose ingest failed for an environmental reason (disk full, database locked). */
  maxIngestRetries?: number;
  /** A shared history: how long a photo's claim outlives this room's last heartbeat (ms, default 30 s). */
  claimLeaseMs?: number;
  /** The local queue for when the shared database is unreachable (PostgreSQL); none with SQLite. */
  outbox?: Outbox;
  /** A shared history: another room changed the clinic's settings (see RemoteChanges). */
  clinicSettingsChanged?: (() => void) | undefined;
}
