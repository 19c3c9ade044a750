import { parentPort } from 'node:worker_threads';
import { compilePattern, previewPattern, type CompiledPattern } from './file-name-pattern.ts';
import type { FromPatternWorker, ToPatternWorker } from './pattern-protocol.ts';

/** Compiled patterns by source and UTC offset; a handful at most (the saved one and the one being edited). */
const cache = new Map<string, CompiledPattern>();

function compiled(pattern: string, utcOffsetMinutes: number): CompiledPattern {
  const key = `${utcOffsetMinutes}\u0000${pattern}`;
  let c = cache.get(key);
  if (!c) {
    c = compilePattern(pattern, utcOffsetMinutes);
    if (cache.size >= 8) cache.delete(cache.keys().next().value!);
    cache.set(key, c);
  }
  return c;
}

const port = parentPort!;
port.on('message', (msg: ToPatternWorker) => {
  let reply: FromPatternWorker;
  try {
    switch (msg.type) {
      case 'parse':
        reply = { type: 'parsed', id: msg.id, value: compiled(msg.pattern, msg.utcOffsetMinutes)(msg.path) };
        break;
      case 'preview':
        reply = {
          type: 'preview',
          id: msg.id,
          value: previewPattern(msg.pattern, msg.path, msg.utcOffsetMinutes),
        };
        break;
      case 'check':
        compiled(msg.pattern, 0);
        reply = { type: 'checked', id: msg.id };
        break;
    }
  } catch (err) {
    const e = err as { code?: string; message?: string };
    reply = { type: 'error', id: msg.id, code: e.code ?? 'internal', message: e.message ?? String(err) };
  }
  port.postMessage(reply);
});
port.postMessage({ type: 'ready', id: 0 } satisfies FromPatternWorker);
