/**
 * Stands in for model/classifier.ts inside the worker thread in worker tests: same static `load`, same
 * ImageInputError shape. The bytes `CRASH` kill the worker thread, to test recovery.
 */
import { FakeDiagnoser } from './fake-diagnoser.ts';
import { ImageRejectedError } from '../../../main/model/diagnoser.ts';

class ImageInputError extends Error {
  override readonly name = 'ImageInputError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class EardrumClassifier {
  private readonly inner = new FakeDiagnoser();
  readonly backend = 'fake-worker';
  get card() {
    return { ...this.inner.card, name: 'fake classifier' };
  }

  static async load(modelDir: string, opts: { eardrumThreshold?: number }): Promise<EardrumClassifier> {
    if (modelDir.endsWith('missing')) throw new Error(`model folder not found: ${modelDir}`);
    const c = new EardrumClassifier();
    if (opts.eardrumThreshold !== undefined) c.inner.eardrumThreshold = opts.eardrumThreshold;
    return c;
  }

  async diagnose(input: Buffer) {
    if (input.toString() === 'CRASH') process.exit(3);
    if (input.toString() === 'THREAD') {
      return { thread: (await import('node:worker_threads')).isMainThread } as never;
    }
    try {
      const d = await this.inner.diagnose(input);
      return { ...d, eardrumProbability: this.inner.eardrumThreshold };
    } catch (err) {
      if (err instanceof ImageRejectedError) throw new ImageInputError(err.reason, err.message);
      throw err;
    }
  }

  setEardrumThreshold(v: number) {
    if (!(v >= 0 && v <= 1)) throw new RangeError('eardrum threshold must be within [0, 1]');
    this.inner.eardrumThreshold = v;
  }

  dispose() {}
}
