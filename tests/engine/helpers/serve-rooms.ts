import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { expect } from 'vitest';
import type { EngineEvent } from '../../../common/contract.ts';
import { repoRoot, waitFor } from './fs-helpers.ts';

/**
 * Exam rooms as shipped, for the tests that run several: each an `eardrum serve` child process with the real
 * model, its own data folder and watched folder, on one PostgreSQL, with its `/api/events` stream recorded.
 */
export interface Room {
  name: string;
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
  base: string;
  token: string;
  /** Every event of the room's stream, with the time it arrived here. */
  events: { at: number; e: EngineEvent }[];
  stopEvents: () => void;
}

export interface RoomOptions {
  dataDir: string;
  watch: string;
  library: string;
  dbUrl: string;
  dbPasswordFile: string;
  env?: Record<string, string>;
}

const URL_RE = /(http:\/\/127\.0\.0\.1:\d+)\/\?token=([\w-]+)/;

/** Starts the child; `openRoom` waits for it to serve. Started apart so that several rooms start together. */
export function spawnRoom(name: string, o: RoomOptions) {
  const child = spawn(
    process.execPath,
    [
      path.join(repoRoot, 'bin', 'eardrum.mjs'),
      'serve',
      '--watch',
      o.watch,
      '--data-dir',
      o.dataDir,
      '--library',
      o.library,
      '--db',
      o.dbUrl,
      '--db-password-file',
      o.dbPasswordFile,
      '--port',
      '0',
    ],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...o.env } },
  );
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { name, child, out: () => out, exited };
}

export type SpawnedRoom = ReturnType<typeof spawnRoom>;

/** Waits for the room's URL and starts recording its event stream. */
export async function openRoom(s: SpawnedRoom): Promise<Room> {
  await waitFor(() => URL_RE.test(s.out()) || s.child.exitCode !== null, 180_000, 100);
  expect(s.child.exitCode, s.out()).toBeNull();
  const [, base, token] = URL_RE.exec(s.out())!;
  const events: Room['events'] = [];
  const stopEvents = await listen(base!, token!, events);
  return { ...s, base: base!, token: token!, events, stopEvents };
}

async function listen(base: string, token: string, events: Room['events']): Promise<() => void> {
  const ctrl = new AbortController();
  const res = await fetch(`${base}/api/events`, {
    signal: ctrl.signal,
    headers: { Authorization: `Bearer ${token}` },
  });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  void (async () => {
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      buf += decoder.decode(value, { stream: true });
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const data = buf
          .slice(0, i)
          .split('\n')
          .find((l) => l.startsWith('data: '));
        buf = buf.slice(i + 2);
        if (data) events.push({ at: Date.now(), e: JSON.parse(data.slice(6)) as EngineEvent });
      }
    }
  })();
  return () => ctrl.abort();
}

export async function call<T>(room: Room, channel: string, args: unknown = {}): Promise<T> {
  const res = await fetch(`${room.base}/api/${channel}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${room.token}` },
    body: JSON.stringify(args),
  });
  const body = (await res.json()) as { ok: boolean; value: T; error?: unknown };
  if (!body.ok) throw new Error(`${room.name} ${channel}: ${JSON.stringify(body.error)}`);
  return body.value;
}

export function doneEvent(room: Room, fileName: string, timeoutMs = 120_000) {
  return waitFor(
    () => room.events.find((x) => x.e.type === 'done' && x.e.record.fileName === fileName),
    timeoutMs,
    20,
  ).catch((err: Error) => {
    throw new Error(`${room.name}: no done event for ${fileName}: ${err.message}\n${room.out()}`);
  });
}

export const idOf = (x: { e: EngineEvent }) => (x.e as { record: { id: number } }).record.id;
