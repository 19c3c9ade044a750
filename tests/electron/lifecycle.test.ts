import { describe, expect, it } from 'vitest';
import { ShutdownCoordinator, acquireSingleInstance } from '../../main/electron/lifecycle.ts';
import { FakeApp, fakeEvent, quietLog, recordingLog } from './fakes.ts';

function deferred() {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('single instance', () => {
  it('quits a second instance and focuses the first', () => {
    const second = new FakeApp();
    second.lock = false;
    let focused = 0;
    expect(acquireSingleInstance(second as never, () => focused++)).toBe(false);
    expect(second.quits).toBe(1);

    const first = new FakeApp();
    expect(acquireSingleInstance(first as never, () => focused++)).toBe(true);
    first.emit('second-instance');
    expect(focused).toBe(1);
  });
});

describe('graceful shutdown', () => {
  it('holds the quit until the engine has stopped, then quits for real', async () => {
    const app = new FakeApp();
    const stop = deferred();
    let stopCalls = 0;
    const coordinator = new ShutdownCoordinator(
      app as never,
      () => {
        stopCalls++;
        return stop.promise;
      },
      recordingLog(),
    );
    coordinator.attach();

    const first = fakeEvent();
    app.emit('before-quit', first);
    expect(first.defaultPrevented).toBe(true);
    expect(coordinator.current).toBe('stopping');

    const again = fakeEvent();
    app.emit('before-quit', again);
    expect(again.defaultPrevented).toBe(true);
    expect(stopCalls).toBe(1);

    stop.resolve();
    await tick();
    expect(coordinator.current).toBe('stopped');
    expect(app.quits).toBe(1);

    const last = fakeEvent();
    app.emit('before-quit', last);
    expect(last.defaultPrevented).toBe(false);
  });

  it('quits when the window closes', () => {
    const app = new FakeApp();
    new ShutdownCoordinator(app as never, async () => undefined, quietLog).attach();
    app.emit('window-all-closed');
    expect(app.quits).toBe(1);
  });

  it('exits with an error code when stopping fails or hangs', async () => {
    const failing = new FakeApp();
    const log = recordingLog();
    new ShutdownCoordinator(
      failing as never,
      () => Promise.reject(new Error('database is locked')),
      log,
    ).attach();
    failing.emit('before-quit', fakeEvent());
    await tick();
    expect(failing.exits).toEqual([1]);
    expect(log.lines.some((l) => l.includes('database is locked'))).toBe(true);

    const hanging = new FakeApp();
    new ShutdownCoordinator(
      hanging as never,
      () => new Promise<void>(() => undefined),
      quietLog,
      20,
    ).attach();
    hanging.emit('before-quit', fakeEvent());
    await new Promise((r) => setTimeout(r, 60));
    expect(hanging.exits).toEqual([1]);
  });
});
