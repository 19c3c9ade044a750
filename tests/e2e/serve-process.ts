/** Starts `eardrum serve` as a real child process and reads the URL (with its token) it prints. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export interface ServeProcess {
  child: ChildProcess;
  /** `http://127.0.0.1:<port>/?token=…` as printed. */
  openUrl: string;
  origin: string;
  token: string;
  output(): string;
  stop(): Promise<number | null>;
}

export async function startServe(
  root: string,
  args: { watchDir: string; dataDir: string },
  timeoutMs = 90_000,
): Promise<ServeProcess> {
  const child = spawn(
    process.execPath,
    [
      path.join(root, 'bin/eardrum.mjs'),
      'serve',
      '--watch',
      args.watchDir,
      '--data-dir',
      args.dataDir,
      '--port',
      '0',
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } },
  );
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const openUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`serve printed no URL within ${timeoutMs} ms:\n${log}`)),
      timeoutMs,
    );
    const check = () => {
      const m = /(http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_%-]+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} before printing its URL:\n${log}`));
    });
  });
  const url = new URL(openUrl);
  return {
    child,
    openUrl,
    origin: url.origin,
    token: url.searchParams.get('token')!,
    output: () => log,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        child.once('exit', (code) => {
          clearTimeout(timer);
          resolve(code);
        });
        child.kill('SIGTERM');
      }),
  };
}
