import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeDiagnoser } from './helpers/fake-diagnoser.ts';
import { syntheticJpeg, waitFor } from './helpers/fs-helpers.ts';
import { startHarness, type Harness } from './helpers/harness.ts';

let h: Harness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

describe('the model and the database in step', () => {
  it('diagnoses the next photo while an answer is committed, one photo ahead at most, commits in order', async () => {
    const diagnoser = new FakeDiagnoser();
    h = await startHarness({ diagnoser });
    const store = h.services.store;
    const commit = store.commitDiagnosis.bind(store);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const committed: number[] = [];
    // A database answering slowly: every commit waits until the test lets them through.
    store.commitDiagnosis = async (id, d, overlay) => {
      await held;
      await commit(id, d, overlay);
      committed.push(id);
    };
    for (let i = 0; i < 4; i++)
      writeFileSync(path.join(h.watchDir, `p${i}.jpg`), await syntheticJpeg(40 + i));
    // The first answer waits for the database, and the model has already diagnosed the second photo.
    await waitFor(() => diagnoser.calls === 2, 10_000);
    await new Promise((r) => setTimeout(r, 300));
    // No further: answers do not pile up in memory behind a database that does not answer.
    expect(diagnoser.calls).toBe(2);
    expect(committed).toHaveLength(0);
    expect(h.services.engine.status().processing).toBe(2);
    release();
    await h.settled(4);
    const done = h.events.flatMap((e) => (e.type === 'done' && e.record ? [e.record.id] : []));
    expect(done).toEqual(committed);
    expect(committed).toEqual([...committed].sort((a, b) => a - b));
    expect(diagnoser.calls).toBe(4);
  });
});
