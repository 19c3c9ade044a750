/**
 * Bundles the Electron main process, the model worker and the preload into dist-electron/ with
 * esbuild. Our own TypeScript is bundled; installed packages (native better-sqlite3 and sharp, TF.js
 * and its .wasm files) stay external and load from node_modules (unpacked from asar when packaged).
 */
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const outdir = path.join(root, 'dist-electron');

export async function buildElectron(): Promise<void> {
  await build({
    absWorkingDir: root,
    entryPoints: {
      main: 'main/electron/main.ts',
      // worker-diagnoser.ts loads `diagnose-worker.js` next to the bundle when it is not running from source,
      // and the worker imports the classifier by path (main.ts passes this bundle's classifier.js).
      'diagnose-worker': 'main/model/diagnose-worker.ts',
      // pattern-matcher.ts likewise loads `pattern-worker.js` next to the bundle.
      'pattern-worker': 'main/ingest/pattern-worker.ts',
      classifier: 'model/classifier.ts',
      // Imported by the worker by path too, for "Learn from reviewed photos".
      adapt: 'model/adapt/adapt.ts',
    },
    outdir,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    packages: 'external',
    sourcemap: true,
    logLevel: 'info',
  });
  // Sandboxed preloads must be a single CommonJS file that requires nothing but `electron`.
  await build({
    absWorkingDir: root,
    entryPoints: ['preload/index.ts'],
    outfile: path.join(outdir, 'preload.cjs'),
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    external: ['electron'],
    sourcemap: 'inline',
    logLevel: 'info',
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildElectron().catch((error: Error) => {
    console.error(error.message);
    process.exitCode = 1;
  });
}
