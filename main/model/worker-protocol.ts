import type { Diagnosis } from '../../model/types.ts';
import type { ModelCardSummary } from './diagnoser.ts';

/** Messages between the engine and the model worker thread. */
export interface WorkerInit {
  modelDir: string;
  backend: 'auto' | 'wasm' | 'cpu';
  /** Module exporting `EardrumClassifier` (default: model/classifier.ts). */
  classifierModule: string;
  /** Module exporting `adaptModel` and `AdaptInputError` (default: model/adapt/adapt.ts). */
  adaptModule: string;
  eardrumThreshold?: number;
}

/** One adaptation, run in the worker beside the diagnoses (see model/adapt/adapt.ts). */
export interface AdaptRequest {
  baseDir: string;
  outDir: string;
  modelId: string;
  photos: { file: string; label: string; name: string }[];
}

/** What a finished adaptation reports: the new model's full card and its cross-validated comparison. */
export interface AdaptResult {
  dir: string;
  card: Record<string, unknown>;
  seconds: number;
}

export interface AdaptProgressMessage {
  phase: 'photos' | 'cross-validation' | 'training' | 'writing';
  done: number;
  total: number;
}

export type ToWorker =
  | { type: 'diagnose'; id: number; bytes: Uint8Array }
  | { type: 'threshold'; id: number; value: number }
  /** Replace the classifier by the model in `modelDir` (after the diagnoses already sent). */
  | { type: 'load'; id: number; modelDir: string }
  | { type: 'adapt'; id: number; request: AdaptRequest }
  | { type: 'adapt_cancel'; id: number; job: number };

export type FromWorker =
  | { type: 'ready'; card: ModelCardSummary; backend: string }
  | { type: 'load_error'; message: string }
  | { type: 'result'; id: number; diagnosis: Diagnosis }
  | { type: 'ack'; id: number }
  | { type: 'loaded'; id: number; card: ModelCardSummary; backend: string }
  | ({ type: 'adapt_progress'; id: number } & AdaptProgressMessage)
  | { type: 'adapt_done'; id: number; result: AdaptResult }
  /** `input`: the photos or output folder (problems, one line each); `cancelled`; `internal`. */
  | { type: 'adapt_error'; id: number; code: 'input' | 'cancelled' | 'internal'; problems: string[] }
  | { type: 'error'; id: number; rejected: boolean; code: string; message: string };
