/**
 * Worker thread holding the one classifier instance. Inference is CPU-bound for tens of milliseconds per
 * image; keeping it here leaves the engine's event loop free for the watcher, the database and HTTP.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import type { FromWorker, ToWorker, WorkerInit } from './worker-protocol.ts';
import type { Diagnosis } from '../../model/types.ts';

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

async function main(): Promise<void> {
  let classifier: Classifier;
  try {
    const mod = (await import(pathToFileURL(init.classifierModule).href)) as {
      EardrumClassifier: { load(dir: string, opts: object): Promise<Classifier> };
    };
    classifier = await mod.EardrumClassifier.load(init.modelDir, {
      backend: init.backend,
      ...(init.eardrumThreshold !== undefined ? { eardrumThreshold: init.eardrumThreshold } : {}),
    });
  } catch (err) {
    send({ type: 'load_error', message: (err as Error).message ?? String(err) });
    return;
  }
  const card = classifier.card;
  send({
    type: 'ready',
    backend: classifier.backend,
    card: {
      id: card.id,
      version: card.version,
      labels: card.labels as never,
      thresholds: { ...card.thresholds },
      details: JSON.parse(JSON.stringify(card)) as Record<string, unknown>,
    },
  });
  // One at a time, in arrival order: the model is single-threaded anyway.
  let chain = Promise.resolve();
  port.on('message', (msg: ToWorker) => {
    chain = chain.then(() => handle(classifier, msg));
  });
}

async function handle(classifier: Classifier, msg: ToWorker): Promise<void> {
  if (msg.type === 'threshold') {
    try {
      classifier.setEardrumThreshold?.(msg.value);
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
