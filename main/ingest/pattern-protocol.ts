import type { PatternPreview } from '../../common/contract.ts';
import type { ParsedName } from './file-name-pattern.ts';

/** Messages between the engine and the file-name pattern worker thread. */
export type ToPatternWorker =
  | { type: 'parse'; id: number; pattern: string; path: string; utcOffsetMinutes: number }
  | { type: 'preview'; id: number; pattern: string; path: string; utcOffsetMinutes: number }
  | { type: 'check'; id: number; pattern: string };

export type FromPatternWorker =
  | { type: 'ready'; id: 0 }
  | { type: 'parsed'; id: number; value: ParsedName }
  | { type: 'preview'; id: number; value: PatternPreview }
  | { type: 'checked'; id: number }
  | { type: 'error'; id: number; code: string; message: string };
