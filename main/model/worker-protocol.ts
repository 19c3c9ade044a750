import type { Diagnosis } from '../../model/types.ts';
import type { ModelCardSummary } from './diagnoser.ts';

/** Messages between the engine and the model worker thread. */
export interface WorkerInit {
  modelDir: string;
  backend: 'auto' | 'wasm' | 'cpu';
  /** Module exporting `EardrumClassifier` (default: model/classifier.ts). */
  classifierModule: string;
  eardrumThreshold?: number;
}

export type ToWorker =
  { type: 'diagnose'; id: number; bytes: Uint8Array } | { type: 'threshold'; id: number; value: number };

export type FromWorker =
  | { type: 'ready'; card: ModelCardSummary; backend: string }
  | { type: 'load_error'; message: string }
  | { type: 'result'; id: number; diagnosis: Diagnosis }
  | { type: 'ack'; id: number }
  | { type: 'error'; id: number; rejected: boolean; code: string; message: string };
