import type { LabelInfo } from '../../common/contract.ts';
import type { Diagnosis } from '../../model/types.ts';

/** The parts of the model card the engine uses; the full card travels in `details` for display. */
export interface ModelCardSummary {
  id: string;
  version: string;
  labels: LabelInfo[];
  thresholds: Record<string, number>;
  details: Record<string, unknown>;
}

/**
 * What the engine needs from a classifier. The real one runs in a worker thread (WorkerDiagnoser); tests of
 * the queue and store may inject a deterministic one.
 */
export interface Diagnoser {
  readonly card: ModelCardSummary;
  readonly backend: string;
  /** Throws ImageRejectedError for input the model cannot read; other errors are engine faults. */
  diagnose(bytes: Buffer): Promise<Diagnosis>;
  /** Applies the user's "minimum eardrum probability" (the card's `eardrum` threshold). */
  setEardrumThreshold(value: number): Promise<void>;
  close(): Promise<void>;
}

/** The picture itself is the problem (empty, not an image, corrupt...): record it as failed and go on. */
export class ImageRejectedError extends Error {
  override readonly name = 'ImageRejectedError';
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}
