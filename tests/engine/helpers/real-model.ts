import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { WorkerDiagnoser } from '../../../main/model/worker-diagnoser.ts';
import { defaultModelDir } from '../../../model/classifier.ts';
import { datasetImages } from './fs-helpers.ts';

/** The shipped model in its worker thread, as the app runs it. */
export function startRealDiagnoser(): Promise<WorkerDiagnoser> {
  return WorkerDiagnoser.start({ modelDir: defaultModelDir(), backend: 'auto' });
}

/** `n` dataset images with pairwise distinct bytes, in a stable order. */
export function distinctDatasetImages(n: number): { file: string; sha256: string }[] {
  const seen = new Set<string>();
  const out: { file: string; sha256: string }[] = [];
  for (const file of datasetImages()) {
    const sha256 = createHash('sha256').update(readFileSync(file)).digest('hex');
    if (seen.has(sha256)) continue;
    seen.add(sha256);
    out.push({ file, sha256 });
    if (out.length === n) return out;
  }
  throw new Error(`only ${out.length} distinct dataset images, ${n} needed`);
}
