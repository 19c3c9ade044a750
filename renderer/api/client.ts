/**
 * The renderer's one way to reach the engine. Both transports (Electron IPC through the preload, and
 * HTTP to `eardrum serve`) implement this interface generically over the contract's channel map, so
 * views never know which one they talk to.
 */
import type { ArgsOf, ChannelName, EngineEvent, FileKind, Result, ResultOf } from '../../common/contract.ts';

export interface ExportOutcome {
  /** Where the file was written (Electron), or null when the browser downloads it / the user cancelled. */
  path: string | null;
  /** Rows written when known (Electron); the browser download does not report it. */
  rows: number | null;
  cancelled: boolean;
}

export interface ApiClient {
  readonly transport: 'electron' | 'http';
  call<C extends ChannelName>(channel: C, args: ArgsOf<C>): Promise<Result<ResultOf<C>>>;
  /** Subscribes to live engine events; returns the unsubscribe function. */
  onEvent(listener: (event: EngineEvent) => void): () => void;
  /** Connection state changes (HTTP event stream dropped / restored). */
  onConnection?(listener: (connected: boolean) => void): () => void;
  fileUrl(kind: FileKind, id: number): string;
  exportCsv(args: ArgsOf<'export.csv'>): Promise<Result<ExportOutcome>>;
}

/** Unwraps a Result or throws an Error carrying the contract's error code (for React effects). */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function unwrap<T>(result: Result<T>): T {
  if (result.ok) return result.value;
  throw new ApiError(result.error.code, result.error.message);
}
