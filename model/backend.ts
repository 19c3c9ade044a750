import * as tf from '@tensorflow/tfjs';

let chosen: Promise<string> | null = null;

/**
 * Picks the fastest TF.js backend that loads in this process: tfjs-node when it is installed (it is an
 * optional extra; its install needs a download), else WebAssembly (SIMD), else plain JS. Once per process.
 */
export function selectBackend(preferred: 'auto' | 'wasm' | 'cpu' = 'auto'): Promise<string> {
  chosen ??= (async () => {
    const candidates = preferred === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : [preferred, 'cpu'];
    for (const name of candidates) {
      try {
        if (name === 'tensorflow') {
          const tfnode = '@tensorflow/tfjs-node';
          await import(/* @vite-ignore */ tfnode);
        } else if (name === 'wasm') {
          await import('@tensorflow/tfjs-backend-wasm');
        }
        if (await tf.setBackend(name)) {
          await tf.ready();
          return name;
        }
      } catch {
        // Not available here; try the next one.
      }
    }
    throw new Error('no TensorFlow.js backend could be initialised');
  })();
  return chosen;
}
