/**
 * Finds the Electron runtime that `npm install electron` downloads. Where that download was not
 * allowed (CI, this build machine), says so plainly instead of failing somewhere deep.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

export type ElectronLookup = { ok: true; binary: string } | { ok: false; reason: string };

export function findElectronBinary(
  resolve: () => unknown = () => createRequire(import.meta.url)('electron'),
  exists: (file: string) => boolean = existsSync,
): ElectronLookup {
  let binary: unknown;
  try {
    binary = resolve();
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
  if (typeof binary !== 'string' || !exists(binary)) {
    return { ok: false, reason: `the Electron runtime is not at ${String(binary)}` };
  }
  return { ok: true, binary };
}

export const MISSING_ELECTRON_HELP = [
  'The Electron runtime is not installed, so the desktop window cannot open here.',
  "(npm downloads it in electron's install script; this checkout does not allow that script.)",
  '',
  'To use the workstation anyway, run it in a browser:',
  '  npm run serve -- --watch <folder>',
  '',
  'To get the desktop app: allow the script (`npm install-scripts approve electron`, then',
  '`npm rebuild electron`) on a machine with internet access, or build an installer with `npm run dist`.',
].join('\n');
