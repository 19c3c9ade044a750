/** Minimal stand-ins for the Electron objects the shell's logic is handed. */
import { EventEmitter } from 'node:events';

export interface FakeEvent {
  defaultPrevented: boolean;
  preventDefault(): void;
}

export function fakeEvent(): FakeEvent {
  return {
    defaultPrevented: false,
    preventDefault() {
      this.defaultPrevented = true;
    },
  };
}

export class FakeWebContents extends EventEmitter {
  openHandler: ((details: { url: string }) => { action: 'allow' | 'deny' }) | null = null;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'allow' | 'deny' }): void {
    this.openHandler = handler;
  }
}

export class FakeApp extends EventEmitter {
  lock = true;
  quits = 0;
  exits: number[] = [];
  requestSingleInstanceLock(): boolean {
    return this.lock;
  }
  quit(): void {
    this.quits++;
    // Electron emits before-quit when quitting; a listener may cancel it.
    const event = fakeEvent();
    this.emit('before-quit', event);
  }
  exit(code = 0): void {
    this.exits.push(code);
  }
}

export const quietLog = { info() {}, warn() {}, error() {} };

export function recordingLog() {
  const lines: string[] = [];
  return {
    lines,
    info: (m: string) => lines.push(`info ${m}`),
    warn: (m: string) => lines.push(`warn ${m}`),
    error: (m: string) => lines.push(`error ${m}`),
  };
}
