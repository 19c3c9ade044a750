import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFaultSuite, type FaultSuiteFigures } from '../../bench/fault-suite.ts';
import { startBridge, type Bridge } from '../../main/http/bridge.ts';
import { FakeDiagnoser } from './helpers/fake-diagnoser.ts';
import { startHarness, type Harness } from './helpers/harness.ts';

let h: Harness;
let bridge: Bridge;
let figures: FaultSuiteFigures;

beforeAll(async () => {
  h = await startHarness({ diagnoser: new FakeDiagnoser({ delayMs: 5 }) });
  bridge = await startBridge({ services: h.services });
  figures = await runFaultSuite({
    db: h.services.db!,
    url: bridge.url,
    token: bridge.token,
    watchDir: h.watchDir,
    sizes: {
      good: 30,
      copies: 5,
      renames: 5,
      bad: 3,
      huge: 1,
      deep: 2,
      oddNames: 3,
      ignored: 3,
      uploads: 3,
      uploadPadBytes: 4 * 1024 * 1024,
      apiCalls: 24,
    },
    settle: (n, ms) => h.settled(n, ms),
  });
  console.log(`fault suite (fake model): ${JSON.stringify(figures)}`);
}, 180_000);

afterAll(async () => {
  await bridge?.close();
  await h?.close();
});

describe('the fault suite (fake model, small)', () => {
  it('records every file with the right outcome: none lost, none duplicated, no 500s', () => {
    expect(figures.wrongOutcome).toEqual([]);
    expect(figures.lost).toBe(0);
    expect(figures.duplicated).toBe(0);
    expect(figures.diagnosesPerPhotoMax).toBe(1);
    expect(figures.failuresWithRightReason).toBe(figures.failuresExpected);
    expect(figures.failuresExpected).toBe(3 * 6 + 1);
    expect(figures.answers5xx).toBe(0);
    expect(figures.uploadsAccepted).toBeGreaterThanOrEqual(2);
    expect(figures.uploadsAccepted + figures.uploadsTold429).toBe(3);
  });
});
