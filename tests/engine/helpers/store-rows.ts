import type { NewImage } from '../../../main/store/record-rows.ts';
import type { Diagnosis } from '../../../model/types.ts';

/** A photo row for store-level tests: number `i` gives its hash, names and capture minute. */
export function fakeImage(i: number, over: Partial<NewImage> = {}): NewImage {
  return {
    sha256: i.toString(16).padStart(64, '0'),
    fileName: `img${i}.jpg`,
    originalPath: `/in/img${i}.jpg`,
    source: 'watch',
    storedPath: `originals/00/${i}.jpg`,
    thumbPath: null,
    sizeBytes: 1000,
    width: 640,
    height: 480,
    format: 'jpeg',
    capturedAt: new Date(Date.UTC(2026, 10, 1, 12, i % 60)).toISOString(),
    captureSource: 'mtime',
    patientId: null,
    ear: 'left',
    patientSource: 'none',
    ...over,
  };
}

/** A confident model answer for the fake labels, committed by store-level tests. */
export const FAKE_ANSWER: Diagnosis = {
  gate: 'eardrum',
  eardrumProbability: 0.9,
  label: 'aom',
  probabilities: { normal: 0.1, aom: 0.8, effusion: 0.1 },
  decision: 'confident',
  notSureReasons: [],
  unfamiliarity: 0.1,
  heatmap: null,
  image: { width: 640, height: 480, format: 'jpeg' },
  timings: { decodeMs: 1, inferenceMs: 2, totalMs: 3 },
  model: { id: 'm', version: '1', backend: 'cpu' },
};
