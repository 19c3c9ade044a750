/**
 * Starts the TF.js wasm backend in Node: SIMD, single thread (the threaded build cannot start its workers
 * under Node). The .wasm binaries are read from the installed package instead of being fetched.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

let ready: Promise<void> | undefined;

export function useWasmBackend(): Promise<void> {
  ready ??= (async () => {
    const require = createRequire(import.meta.url);
    const dist = path.dirname(
      require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'),
    );
    setWasmPaths(dist + path.sep);
    if (!(await tf.setBackend('wasm'))) throw new Error('the TF.js wasm backend failed to start');
    await tf.ready();
  })();
  return ready;
}
