/**
 * Worker thread holding the one classifier instance. Inference is CPU-bound for tens of milliseconds per
 * image; keeping it here leaves the engine's event loop free for the watcher, the database and HTTP.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import type { AdaptRequest, FromWorker, ToWorker, WorkerInit } from './worker-protocol.ts';
import type { Diagnosis } from '../../model/types.ts';

type AdaptModule = Pick<typeof import('../../model/adapt/adapt.ts'), 'adaptModel'>;

interface Classifier {
  card: { id: string; version: string; labels: unknown[]; thresholds: Record<string, number> };
  backend: string;
  diagnose(input: Buffer): Promise<Diagnosis>;
  setEardrumThreshold?(value: number): void;
  dispose(): void;
}

const init = workerData as WorkerInit;
const port = parentPort!;
const send = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

let threshold = init.eardrumThreshold;

async function loadClassifier(modelDir: string): Promise<Classifier> {
  const mod = (await import(pathToFileURL(init.classifierModule).href)) as {
    EardrumClassifier: { load(dir: string, opts: object): Promise<Classifier> };
  };
  return mod.EardrumClassifier.load(modelDir, {
    backend: init.backend,
    ...(threshold !== undefined ? { eardrumThreshold: threshold } : {}),
  });
}

function summary(classifier: Classifier) {
  const card = classifier.card;
  return {
    id: card.id,
    version: card.version,
    labels: card.labels as never,
    thresholds: { ...card.thresholds },
    details: JSON.parse(JSON.stringify(card)) as Record<string, unknown>,
  };
}

let classifier: Classifier;
/** Diagnoses, threshold changes and model switches run one at a time, in arrival order. */
let chain = Promise.resolve();
let queued = 0;
const adaptations = new Map<number, AbortController>();

async function main(): Promise<void> {
  try {
    classifier = await loadClassifier(init.modelDir);
  } catch (err) {
    send({ type: 'load_error', message: (err as Error).message ?? String(err) });
    return;
  }
  send({ type: 'ready', backend: classifier.backend, card: summary(classifier) });
  port.on('message', (msg: ToWorker) => {
    if (msg.type === 'adapt') {
      void adapt(msg.id, msg.request);
      return;
    }
    if (msg.type === 'adapt_cancel') {
      adaptations.get(msg.job)?.abort();
      send({ type: 'ack', id: msg.id });
      return;
    }
    queued++;
    chain = chain.then(() => handle(msg)).finally(() => queued--);
  });
}

/**
 * Adaptation runs beside the queue, not in it: between its steps it waits until every diagnosis that has
 * arrived is done, so new photos are diagnosed as promptly as before (each step is tens of milliseconds).
 */
async function pause(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  while (queued > 0) await chain;
}

async function adapt(id: number, request: AdaptRequest): Promise<void> {
  const controller = new AbortController();
  adaptations.set(id, controller);
  try {
    const mod = (await import(pathToFileURL(init.adaptModule).href)) as AdaptModule;
    const outcome = await mod.adaptModel({
      baseDir: request.baseDir,
      outDir: request.outDir,
      id: request.modelId,
      photos: request.photos,
      pause,
      signal: controller.signal,
      onProgress: (p) => send({ type: 'adapt_progress', id, phase: p.phase, done: p.done, total: p.total }),
    });
    send({
      type: 'adapt_done',
      id,
      result: {
        dir: outcome.dir,
        card: JSON.parse(JSON.stringify(outcome.card)) as Record<string, unknown>,
        seconds: outcome.seconds,
      },
    });
  } catch (err) {
    const e = err as Error & { problems?: string[] };
    if (controller.signal.aborted) {
      send({ type: 'adapt_error', id, code: 'cancelled', problems: ['cancelled'] });
    } else if (e?.name === 'AdaptInputError' && Array.isArray(e.problems)) {
      send({ type: 'adapt_error', id, code: 'input', problems: e.problems });
    } else {
      send({ type: 'adapt_error', id, code: 'internal', problems: [e?.message ?? String(err)] });
    }
  } finally {
    adaptations.delete(id);
  }
}

async function handle(msg: Exclude<ToWorker, { type: 'adapt' | 'adapt_cancel' }>): Promise<void> {
  if (msg.type === 'load') {
    try {
      const next = await loadClassifier(msg.modelDir);
      const previous = classifier;
      classifier = next;
      previous.dispose();
      send({ type: 'loaded', id: msg.id, card: summary(next), backend: next.backend });
    } catch (err) {
      send({
        type: 'error',
        id: msg.id,
        rejected: false,
        code: 'model_unavailable',
        message: (err as Error).message ?? String(err),
      });
    }
    return;
  }
  if (msg.type === 'threshold') {
    try {
      classifier.setEardrumThreshold?.(msg.value);
      threshold = msg.value;
      send({ type: 'ack', id: msg.id });
    } catch (err) {
      send({
        type: 'error',
        id: msg.id,
        rejected: false,
        code: 'invalid_args',
        message: (err as Error).message,
      });
    }
    return;
  }
  try {
    const bytes = Buffer.from(msg.bytes.buffer, msg.bytes.byteOffset, msg.bytes.byteLength);
    const diagnosis = await classifier.diagnose(bytes);
    const transfer: ArrayBuffer[] = [];
    if (diagnosis.heatmap) {
      // A private copy can be transferred instead of cloned.
      const png = new Uint8Array(diagnosis.heatmap.overlayPng);
      transfer.push(png.buffer);
      diagnosis.heatmap = { ...diagnosis.heatmap, overlayPng: png as Buffer };
    }
    send({ type: 'result', id: msg.id, diagnosis }, transfer);
  } catch (err) {
    const e = err as { name?: string; code?: string; message?: string };
    const rejected = e?.name === 'ImageInputError';
    send({
      type: 'error',
      id: msg.id,
      rejected,
      code: rejected ? String(e.code) : 'internal',
      message: e?.message ?? String(err),
    });
  }
}

void main();
