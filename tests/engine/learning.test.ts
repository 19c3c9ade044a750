import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  channels,
  isSavedLocally,
  type AdaptJob,
  type ChannelName,
  type EngineEvent,
} from '../../common/contract.ts';
import { adaptBaseDir, defaultModelDir } from '../../model/classifier.ts';
import { readDataset, sharedDatasetsDir } from '../../model/data/dataset.ts';
import { removeDir, tempDir, waitFor } from './helpers/fs-helpers.ts';
import { startHarness, type Harness } from './helpers/harness.ts';

/**
 * "Learn from reviewed photos" through the contract, with the real model worker: reviewed photos are
 * counted per label, the shipped model is adapted in the worker while photos keep being diagnosed, the new
 * model is kept or thrown away, used, and the shipped one restored; each result keeps its own model.
 */
const TURKEY = 'basaran2019_vanyyu_turkey';
let h: Harness;
let dataDir: string;
const shippedId = JSON.parse(readFileSync(path.join(defaultModelDir(), 'model-card.json'), 'utf8'))
  .id as string;

async function call<C extends ChannelName>(channel: C, args: unknown = {}) {
  const r = await h.services.call(channel, args);
  if (!r.ok) throw new Error(`${channel}: ${r.error.code} ${r.error.message}`);
  return channels[channel].result.parse(r.value) as ReturnType<(typeof channels)[C]['result']['parse']>;
}

const photos = readDataset(path.join(sharedDatasetsDir(), 'otoscopy'), 'train').filter(
  (s) => s.source === TURKEY && (s.label === 'normal' || s.label === 'ventilation_tube'),
);
const normals = photos.filter((s) => s.label === 'normal');
const tubes = photos.filter((s) => s.label === 'ventilation_tube');
let nextNormal = 0;

async function upload(file: string) {
  const r = await call('diagnose.upload', {
    fileName: path.basename(file),
    dataBase64: readFileSync(file).toString('base64'),
  });
  if (isSavedLocally(r)) throw new Error(`${file} was kept locally`);
  return r.record;
}

async function untilJob(state: AdaptJob['state']): Promise<AdaptJob> {
  let job: AdaptJob | null = null;
  await waitFor(() => {
    const e = h.events
      .filter((x): x is Extract<EngineEvent, { type: 'learn.progress' }> => x.type === 'learn.progress')
      .at(-1);
    job = e?.job ?? null;
    return job?.state === state;
  }, 300_000);
  return job!;
}

beforeAll(async () => {
  dataDir = tempDir('learn-data');
  h = await startHarness({ dataDir, diagnoser: undefined, backend: 'wasm' });
}, 120_000);

afterAll(async () => {
  await h?.close();
  removeDir(dataDir);
});

describe('learning from reviewed photos through the contract', () => {
  let firstRecord = 0;

  it('counts reviewed photos per label: a confirm as the model label, an override as the clinician label', async () => {
    const before = await call('learn.summary');
    expect(before.reviewed.every((r) => r.photos === 0)).toBe(true);
    expect(before.canStart).toBe(false);
    expect(before.activeModelId).toBe(shippedId);
    expect(before.models.map((m) => [m.id, m.kind, m.active])).toEqual([[shippedId, 'shipped', true]]);
    const refused = await h.services.call('learn.start', {});
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.error.code).toBe('invalid_args');

    // Five normals confirmed when the model said normal (else overridden), four tubes overridden.
    for (let i = 0; i < 5; i++) {
      const r = await upload(normals[nextNormal++]!.file);
      if (!firstRecord) firstRecord = r.record.id;
      const confirm = r.record.modelLabel === 'normal';
      await call('reviews.add', {
        recordId: r.record.id,
        action: confirm ? 'confirm' : 'override',
        ...(confirm ? {} : { label: 'normal' }),
        reviewer: 'Dr Kim',
      });
    }
    for (const s of tubes.slice(0, 4)) {
      const r = await upload(s.file);
      await call('reviews.add', {
        recordId: r.record.id,
        action: 'override',
        label: 'ventilation_tube',
        reviewer: 'Dr Kim',
      });
    }
    // A confirm of a photo the model called something else counts as that label.
    const odd = await upload(normals[nextNormal++]!.file);
    await call('reviews.add', { recordId: odd.record.id, action: 'confirm', reviewer: 'Dr Kim' });
    const s = await call('learn.summary');
    const count = (l: string) => s.reviewed.find((r) => r.label === l)!.photos;
    const oddLabel = odd.record.modelLabel!;
    expect(count('normal')).toBe(5 + (oddLabel === 'normal' ? 1 : 0));
    expect(count('ventilation_tube')).toBe(4 + (oddLabel === 'ventilation_tube' ? 1 : 0));
    expect(s.usable).toBeGreaterThanOrEqual(9);
    expect(s.canStart).toBe(true);
  }, 120_000);

  it('adapts in the model worker while new photos are still diagnosed, then keeps the current model on request', async () => {
    const job = await call('learn.start');
    expect(job.state).toBe('running');
    expect(job.photosPerLabel).toMatchObject({ normal: expect.any(Number), ventilation_tube: 4 });
    const busy = await h.services.call('learn.start', {});
    expect(!busy.ok && busy.error.code).toBe('busy');
    // The watcher and the model keep working during adaptation.
    const during = await upload(normals[nextNormal++]!.file);
    expect(during.record.status).toBe('done');
    expect((await call('learn.summary')).job.state).toBe('running');

    const ready = await untilJob('ready');
    // Adapting starts from the general-feature model named by current.json adaptFrom, not the shipped one.
    expect(ready.candidate?.baseId).toBe(path.basename(adaptBaseDir()));
    expect(ready.candidate?.baseId).not.toBe(shippedId);
    expect(ready.candidate?.comparison?.photos).toBeGreaterThanOrEqual(9);
    const progress = h.events.filter((e) => e.type === 'learn.progress');
    expect(progress.length).toBeGreaterThan(3);
    const candidateDir = path.join(dataDir, 'models', '.candidates', ready.candidate!.id);
    expect(existsSync(path.join(candidateDir, 'model-card.json'))).toBe(true);

    const kept = await call('learn.decide', { use: false });
    expect(kept.activeModelId).toBe(shippedId);
    expect(kept.job.state).toBe('idle');
    expect(existsSync(candidateDir)).toBe(false);
    expect(kept.models).toHaveLength(1);
  }, 400_000);

  it('uses the new model for new results only, and goes back to the shipped model', async () => {
    h.events.length = 0;
    await call('learn.start');
    const ready = await untilJob('ready');
    const id = ready.candidate!.id;
    const used = await call('learn.decide', { use: true });
    expect(used.activeModelId).toBe(id);
    expect(used.models.map((m) => [m.id, m.active])).toEqual([
      [shippedId, false],
      [id, true],
    ]);
    expect(h.events.some((e) => e.type === 'model.changed' && e.modelId === id)).toBe(true);
    expect(existsSync(path.join(dataDir, 'models', id, 'weights.bin'))).toBe(true);
    expect((await call('app.info')).model?.id).toBe(id);
    expect((await call('model.card')).id).toBe(id);

    const after = await upload(normals[nextNormal++]!.file);
    expect(after.diagnosis?.modelId).toBe(id);
    expect((await call('records.get', { id: firstRecord })).diagnosis?.modelId).toBe(shippedId);

    const missing = await h.services.call('models.use', { id: 'no-such-model' });
    expect(!missing.ok && missing.error.code).toBe('not_found');

    const back = await call('models.use', { id: shippedId });
    expect(back.activeModelId).toBe(shippedId);
    const later = await upload(normals[nextNormal++]!.file);
    expect(later.diagnosis?.modelId).toBe(shippedId);

    // The choice is kept in the data folder: a restart comes back with the adapted model.
    await call('models.use', { id });
    await h.close();
    h = await startHarness({ dataDir, diagnoser: undefined, backend: 'wasm' });
    expect((await call('app.info')).model?.id).toBe(id);
  }, 400_000);
});
