import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ImageRejectedError } from '../../main/model/diagnoser.ts';
import { WorkerDiagnoser } from '../../main/model/worker-diagnoser.ts';
import { syntheticJpeg } from './helpers/fs-helpers.ts';

const classifierModule = path.join(import.meta.dirname, 'helpers', 'fake-classifier.ts');
let d: WorkerDiagnoser | null = null;
afterEach(async () => {
  await d?.close();
  d = null;
});

describe('model worker thread', () => {
  it('runs the classifier off the main thread and returns its diagnosis with the overlay bytes', async () => {
    d = await WorkerDiagnoser.start({ modelDir: '/models/fake', classifierModule, eardrumThreshold: 0.6 });
    expect(d.card).toMatchObject({
      id: 'fake-model',
      labels: [{ id: 'normal' }, { id: 'aom' }, { id: 'effusion' }],
    });
    expect(d.card.details).toMatchObject({ name: 'fake classifier' });
    expect(d.backend).toBe('fake-worker');
    expect(await d.diagnose(Buffer.from('THREAD'))).toEqual({ thread: false });
    const bytes = await syntheticJpeg(3);
    const results = await Promise.all([
      d.diagnose(bytes),
      d.diagnose(bytes),
      d.diagnose(await syntheticJpeg(4)),
    ]);
    expect(results[0]).toEqual(results[1]);
    expect(results[0]!.eardrumProbability).toBe(0.6);
    const withMap = results.find((r) => r.heatmap);
    expect(withMap).toBeDefined();
    expect(Buffer.isBuffer(withMap!.heatmap!.overlayPng)).toBe(true);
    expect(withMap!.heatmap!.overlayPng.subarray(1, 4).toString()).toBe('PNG');
    // The caller's buffer is not detached by the transfer.
    expect(bytes.length).toBeGreaterThan(0);
    await d.setEardrumThreshold(0.3);
    expect((await d.diagnose(bytes)).eardrumProbability).toBe(0.3);
    await expect(d.setEardrumThreshold(7)).rejects.toMatchObject({ code: 'invalid_args' });
  });

  it('turns unreadable images into ImageRejectedError with the classifier code', async () => {
    d = await WorkerDiagnoser.start({ modelDir: '/models/fake', classifierModule });
    const err = await d.diagnose(Buffer.from('definitely not an image')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageRejectedError);
    expect(err).toMatchObject({ reason: 'corrupt' });
    expect(await d.diagnose(await syntheticJpeg(1))).toMatchObject({ model: { id: 'fake-model' } });
  });

  it('fails the image in flight when the worker dies, then starts a fresh worker', async () => {
    d = await WorkerDiagnoser.start({ modelDir: '/models/fake', classifierModule });
    await expect(d.diagnose(Buffer.from('CRASH'))).rejects.toMatchObject({ code: 'internal' });
    expect(await d.diagnose(await syntheticJpeg(2))).toMatchObject({ model: { id: 'fake-model' } });
  });

  it('reports a model that cannot load as model_unavailable', async () => {
    await expect(
      WorkerDiagnoser.start({ modelDir: '/models/missing', classifierModule }),
    ).rejects.toMatchObject({
      code: 'model_unavailable',
      message: expect.stringMatching(/model folder not found/),
    });
  });
});
