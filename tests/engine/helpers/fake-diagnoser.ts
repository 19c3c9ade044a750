import { createHash } from 'node:crypto';
import sharp from 'sharp';
import type { Diagnosis, LabelInfo } from '../../../model/types.ts';
import type { Diagnoser, ModelCardSummary } from '../../../main/model/diagnoser.ts';
import { ImageRejectedError } from '../../../main/model/diagnoser.ts';

export const FAKE_LABELS: LabelInfo[] = [
  { id: 'normal', en: 'Normal', ko: '정상', abnormal: false },
  { id: 'aom', en: 'Acute otitis media', ko: '급성 중이염', abnormal: true },
  { id: 'effusion', en: 'Otitis media with effusion', ko: '삼출성 중이염', abnormal: true },
];

/**
 * A deterministic stand-in for the classifier in unit tests of the queue and store: it really decodes the
 * image with sharp (so unreadable files fail as they would), and derives its answer from the bytes' hash.
 */
export class FakeDiagnoser implements Diagnoser {
  readonly backend = 'fake';
  readonly card: ModelCardSummary = {
    id: 'fake-model',
    version: '1.0.0',
    labels: FAKE_LABELS,
    thresholds: { eardrum: 0.5 },
    details: { name: 'fake' },
  };
  calls = 0;
  delayMs: number;
  eardrumThreshold = 0.5;

  constructor(opts: { delayMs?: number } = {}) {
    this.delayMs = opts.delayMs ?? 0;
  }

  async diagnose(bytes: Buffer): Promise<Diagnosis> {
    this.calls++;
    if (bytes.length === 0) throw new ImageRejectedError('empty', 'the file is empty (0 bytes)');
    let meta;
    try {
      meta = await sharp(bytes).metadata();
      await sharp(bytes).resize(8, 8).raw().toBuffer();
    } catch (err) {
      throw new ImageRejectedError(
        'corrupt',
        `the image data is damaged or incomplete: ${(err as Error).message}`,
      );
    }
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    const h = createHash('sha256').update(bytes).digest();
    const eardrumProbability = h[0]! / 255;
    const base = {
      eardrumProbability,
      image: { width: meta.width ?? 0, height: meta.height ?? 0, format: meta.format ?? 'unknown' },
      timings: { decodeMs: 1, inferenceMs: 1, totalMs: 2 },
      model: { id: this.card.id, version: this.card.version, backend: this.backend },
    };
    if (eardrumProbability < 0.15) {
      return {
        ...base,
        gate: 'ungradable',
        gateReason: 'too_dark',
        label: null,
        probabilities: {},
        decision: null,
        notSureReasons: [],
        unfamiliarity: null,
        heatmap: null,
      };
    }
    if (eardrumProbability < 0.25) {
      return {
        ...base,
        gate: 'not_eardrum',
        label: null,
        probabilities: {},
        decision: null,
        notSureReasons: [],
        unfamiliarity: null,
        heatmap: null,
      };
    }
    const raw = FAKE_LABELS.map((_, i) => 1 + h[i + 1]!);
    const sum = raw.reduce((a, b) => a + b, 0);
    const probabilities: Record<string, number> = {};
    FAKE_LABELS.forEach((l, i) => (probabilities[l.id] = raw[i]! / sum));
    const top = FAKE_LABELS.reduce((a, l) => (probabilities[l.id]! > probabilities[a.id]! ? l : a));
    const overlayPng = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#f00' } })
      .png()
      .toBuffer();
    // Like the real rule: a low top probability is "not sure" (fake photos are never unfamiliar).
    const notSure = probabilities[top.id]! < 0.3;
    return {
      ...base,
      gate: 'eardrum',
      label: top.id,
      probabilities,
      decision: notSure ? 'not_sure' : 'confident',
      notSureReasons: notSure ? ['low_confidence'] : [],
      unfamiliarity: 0.1,
      heatmap: { rows: 2, cols: 2, values: [0, 0.5, 0.75, 1], overlayPng },
    };
  }

  async setEardrumThreshold(value: number): Promise<void> {
    this.eardrumThreshold = value;
  }

  async close(): Promise<void> {}
}
