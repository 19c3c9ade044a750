import type { LabelInfo } from '../../common/contract.ts';
import type { Diagnosis } from '../../model/types.ts';
import type { AdaptProgressMessage, AdaptRequest, AdaptResult } from './worker-protocol.ts';

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
  /** The folder of the model in use. */
  readonly modelDir?: string;
  /** Switches to another model folder after the images already sent; `card` then describes it. */
  useModel?(modelDir: string): Promise<void>;
  /** Adapts a model to labelled photos beside the diagnoses (model/adapt/adapt.ts). */
  adapt?(request: AdaptRequest, onProgress: (p: AdaptProgressMessage) => void): AdaptHandle;
  close(): Promise<void>;
}

export interface AdaptHandle {
  /** Resolves with the new model, or rejects with AdaptFailure. */
  readonly done: Promise<AdaptResult>;
  cancel(): void;
}

/** Why an adaptation produced no model: the photos (`input`, one line per problem), a cancel, or a fault. */
export class AdaptFailure extends Error {
  override readonly name = 'AdaptFailure';
  constructor(
    readonly code: 'input' | 'cancelled' | 'internal',
    readonly problems: string[],
  ) {
    super(problems.join('; '));
  }
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
