import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file lives in <root>/model/). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The read-only shared data folder that sits beside the checkout (datasets, backbones). */
export function sharedDir(): string {
  return process.env.EARDRUM_SHARED_DIR ?? path.resolve(repoRoot, '../shared');
}
