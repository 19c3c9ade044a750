/**
 * Vitest global setup: under CI=true the whole run fails unless the browser end-to-end test ran to
 * the end in this run (it writes the marker as its last step). Skipping it, filtering it out or a
 * missing browser can therefore never pass CI quietly.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const E2E_MARKER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../.tmp/e2e-ran.json');

export default function setup(): () => void {
  rmSync(E2E_MARKER, { force: true });
  return () => {
    if (process.env.CI !== 'true') return;
    const ran =
      existsSync(E2E_MARKER) && (JSON.parse(readFileSync(E2E_MARKER, 'utf8')) as { passed?: boolean }).passed;
    if (!ran) {
      console.error(
        '\nCI check failed: the browser end-to-end test (tests/e2e/workstation.test.ts) did not run to the end.\n',
      );
      process.exitCode = 1;
    }
  };
}
