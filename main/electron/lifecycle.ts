/**
 * Single-instance lock and graceful shutdown. Quitting first lets the engine finish the image it is
 * working on and close the database; only then does the app really exit.
 */
import type { App } from 'electron';
import type { Logger } from './security.ts';

type LockApp = Pick<App, 'requestSingleInstanceLock' | 'quit' | 'on'>;

/**
 * Returns false (and quits) when another instance already runs; that instance is brought to the
 * front instead, so two workstations never watch and write the same data folder.
 */
export function acquireSingleInstance(app: LockApp, focusExisting: () => void): boolean {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return false;
  }
  app.on('second-instance', () => focusExisting());
  return true;
}

export type ShutdownState = 'running' | 'stopping' | 'stopped';

type QuitApp = Pick<App, 'on' | 'quit' | 'exit'>;

export class ShutdownCoordinator {
  private state: ShutdownState = 'running';

  constructor(
    private readonly app: QuitApp,
    private readonly stopServices: () => Promise<void>,
    private readonly log: Logger,
    private readonly timeoutMs = 15_000,
  ) {}

  get current(): ShutdownState {
    return this.state;
  }

  attach(): void {
    this.app.on('before-quit', (event) => {
      if (this.state === 'stopped') return;
      event.preventDefault();
      if (this.state === 'stopping') return;
      void this.stop();
    });
    this.app.on('window-all-closed', () => this.app.quit());
  }

  private async stop(): Promise<void> {
    this.state = 'stopping';
    this.log.info('shutting down: finishing the current image and closing the database');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.timeoutMs);
    });
    try {
      const outcome = await Promise.race([this.stopServices().then(() => 'done' as const), timeout]);
      if (outcome === 'timeout') {
        this.log.error(`services did not stop within ${this.timeoutMs} ms; exiting anyway`);
        this.state = 'stopped';
        this.app.exit(1);
        return;
      }
    } catch (error) {
      this.log.error(`error while stopping services: ${(error as Error).message}`);
      this.state = 'stopped';
      this.app.exit(1);
      return;
    } finally {
      clearTimeout(timer);
    }
    this.state = 'stopped';
    this.app.quit();
  }
}
