/** `npm start`: checks for the Electron runtime, builds the renderer and main bundles, launches. */
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildElectron } from './build.ts';
import { MISSING_ELECTRON_HELP, findElectronBinary } from './electron-binary.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

async function main(): Promise<number> {
  const electron = findElectronBinary();
  if (!electron.ok) {
    console.error(`${MISSING_ELECTRON_HELP}\n\n(detail: ${electron.reason})`);
    return 1;
  }
  const vite = spawnSync(process.execPath, [path.join(root, 'node_modules/vite/bin/vite.js'), 'build'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (vite.status !== 0) return vite.status ?? 1;
  await buildElectron();
  const child = spawn(electron.binary, [root, ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
}

process.exitCode = await main();
