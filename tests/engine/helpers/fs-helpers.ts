import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { imageFilesUnder, sharedDatasetsDir } from '../../../model/data/dataset.ts';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const datasetsDir = sharedDatasetsDir();

export function tempDir(prefix: string): string {
  const base = path.join(os.tmpdir(), 'eardrum-tests');
  mkdirSync(base, { recursive: true });
  return mkdtempSync(path.join(base, `${prefix}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Every dataset photo (eardrums and not-eardrums), sorted. */
export const datasetImages = (): string[] => imageFilesUnder(datasetsDir);

/** A small synthetic image with a colour derived from `seed` (distinct bytes per seed). */
export async function syntheticJpeg(seed: number, size = 64): Promise<Buffer> {
  const r = (seed * 37) % 256;
  const g = (seed * 91 + 13) % 256;
  const b = (seed * 53 + 101) % 256;
  return sharp({ create: { width: size, height: size, channels: 3, background: { r, g, b } } })
    .jpeg({ quality: 90 })
    .toBuffer();
}

export async function waitFor<T>(
  fn: () => T | undefined | false | null,
  timeoutMs = 20_000,
  stepMs = 25,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
