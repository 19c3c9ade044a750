import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { appInfoSchema, channels, modelCardViewSchema, settingsSchema } from '../../common/contract.ts';
import { run as watchCli } from '../../main/cli/watch.ts';
import { run as serveCli } from '../../main/cli/serve.ts';
import { syntheticJpeg } from './helpers/fs-helpers.ts';
import { startHarness, type Harness } from './helpers/harness.ts';

let h: Harness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

describe('services through the contract', () => {
  it('answers every channel with results that match the contract schemas', async () => {
    h = await startHarness();
    writeFileSync(path.join(h.watchDir, 'S1_L_20261101.jpg'), await syntheticJpeg(1));
    await h.settled(1);
    const id = h.records.list({
      filter: {},
      sort: { field: 'capturedAt', direction: 'asc' },
      offset: 0,
      limit: 1,
    }).items[0]!.id;
    const calls: [keyof typeof channels, unknown][] = [
      ['app.info', {}],
      ['model.card', {}],
      ['records.list', { filter: { ear: 'left' } }],
      ['records.get', { id }],
      ['records.countsPerDay', { filter: { utcOffsetMinutes: 540 } }],
      ['records.updatePatient', { id, patientId: 'S9', ear: 'right' }],
      [
        'reviews.add',
        { recordId: id, action: 'override', label: 'aom', note: 'bulging', reviewer: '박의사' },
      ],
      ['settings.get', {}],
      ['settings.update', { reviewerName: '박의사', language: 'en' }],
      ['settings.previewPattern', { pattern: '{patient}_{ear}*', sample: 'K1_R_x.jpg' }],
      ['settings.changeThreshold', { name: 'eardrum', value: 0.2, changedBy: '박의사' }],
      ['settings.changes', {}],
      ['records.visits', { filter: { utcOffsetMinutes: 540 } }],
    ];
    for (const [channel, args] of calls) {
      const r = await h.services.call(channel, args);
      expect(r.ok, `${channel}: ${JSON.stringify(r)}`).toBe(true);
      if (r.ok) channels[channel].result.parse(r.value);
    }
    expect(
      appInfoSchema.parse(((await h.services.call('app.info', {})) as { value: unknown }).value).engine.done,
    ).toBe(1);
    expect(
      modelCardViewSchema.parse(((await h.services.call('model.card', {})) as { value: unknown }).value)
        .labels,
    ).toHaveLength(3);
    const detail = (await h.services.call('records.get', { id })) as {
      ok: true;
      value: { record: { patientId: string; effectiveLabel: string; modelLabel: string } };
    };
    expect(detail.value.record).toMatchObject({ patientId: 'S9', effectiveLabel: 'aom' });
    expect(h.events.filter((e) => e.type === 'record.updated')).toHaveLength(2);
    expect(
      settingsSchema.parse(((await h.services.call('settings.get', {})) as { value: unknown }).value)
        .language,
    ).toBe('en');
  });

  it('rejects bad settings with a clear error and keeps the old ones', async () => {
    h = await startHarness();
    const before = await h.services.store.getSettings();
    expect(await h.services.call('settings.update', { fileNamePattern: '{patient}_{side}' })).toMatchObject({
      ok: false,
      error: { code: 'invalid_args', message: expect.stringMatching(/unknown token \{side\}/) },
    });
    expect(await h.services.call('settings.update', { thresholds: { minSide: 0.5 } })).toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(/Only the "eardrum" threshold/) },
    });
    expect(await h.services.call('settings.update', { pollIntervalMs: 1 })).toMatchObject({ ok: false });
    expect(await h.services.store.getSettings()).toEqual(before);
    expect(await h.services.call('settings.update', { thresholds: { eardrum: 0.7 } })).toMatchObject({
      ok: true,
      value: { thresholds: { eardrum: 0.7 } },
    });
    expect(
      await h.services.call('settings.changeThreshold', { name: 'minSide', value: 0.5, changedBy: 'Dr. X' }),
    ).toMatchObject({
      ok: false,
      error: { code: 'invalid_args', message: expect.stringMatching(/cannot be changed/) },
    });
    expect(
      await h.services.call('settings.changeThreshold', { name: 'eardrum', value: 0.3, changedBy: '  ' }),
    ).toMatchObject({ ok: false, error: { code: 'invalid_args' } });
    expect(
      await h.services.call('settings.changeThreshold', { name: 'eardrum', value: null, changedBy: 'Dr. X' }),
    ).toMatchObject({ ok: true, value: { thresholds: {} } });
    const changes = (await h.services.call('settings.changes', {})) as { ok: true; value: unknown[] };
    expect(changes.value).toMatchObject([
      { key: 'thresholds.eardrum', oldValue: 0.7, newValue: null, changedBy: 'Dr. X' },
      { key: 'thresholds.eardrum', oldValue: null, newValue: 0.7, changedBy: 'unnamed' },
    ]);
    expect(await h.services.call('dialog.chooseWatchDir', {})).toMatchObject({
      ok: false,
      error: { code: 'unsupported' },
    });
    expect(await h.services.call('report.savePdf', { suggestedName: 'r.pdf' })).toMatchObject({
      ok: false,
      error: { code: 'unsupported', message: expect.stringMatching(/Save as PDF/) },
    });
    expect(await h.services.call('report.savePdf', { suggestedName: '../../etc/x.pdf' })).toMatchObject({
      ok: false,
      error: { code: 'invalid_args' },
    });
    expect(await h.services.call('records.get', { id: 'x' })).toMatchObject({
      ok: false,
      error: { code: 'invalid_args' },
    });
    expect(await h.services.call('no.such', {})).toMatchObject({
      ok: false,
      error: { code: 'unknown_channel' },
    });
  });

  it('refuses a second engine on the same data folder', async () => {
    h = await startHarness();
    const { createServices } = await import('../../main/services.ts');
    await expect(
      createServices({ dataDir: h.dataDir, diagnoser: h.services.diagnoser }),
    ).rejects.toMatchObject({
      code: 'already_running',
    });
  });

  it('CLI commands explain bad arguments instead of starting', async () => {
    expect(await watchCli(['a', 'b'])).toBe(2);
    expect(await watchCli(['--frobnicate'])).toBe(2);
    expect(await watchCli(['x', '--backend', 'gpu'])).toBe(2);
    expect(await serveCli(['--port', 'eighty'])).toBe(1);
    expect(await watchCli(['--help'])).toBe(0);
  });
});
