/** `eardrum serve` as shipped: a child process with the real model, its printed URL, token and shutdown. */
import { spawn } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { removeDir, repoRoot, tempDir, waitFor } from './helpers/fs-helpers.ts';
import { distinctDatasetImages } from './helpers/real-model.ts';

const dataDir = tempDir('serve-data');
const watchDir = tempDir('serve-watch');
afterAll(() => {
  removeDir(dataDir);
  removeDir(watchDir);
});

it('serves the API on loopback with a per-launch token and stops cleanly on SIGTERM', async () => {
  const child = spawn(
    process.execPath,
    [
      path.join(repoRoot, 'bin', 'eardrum.mjs'),
      'serve',
      '--watch',
      watchDir,
      '--data-dir',
      dataDir,
      '--port',
      '0',
    ],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    const URL_RE = /(http:\/\/127\.0\.0\.1:\d+)\/\?token=([\w-]+)/;
    await waitFor(() => URL_RE.test(out) || child.exitCode !== null, 120_000, 100);
    expect(child.exitCode, out).toBeNull();
    const m = URL_RE.exec(out)!;
    const [, base, token] = m;
    const call = (channel: string, headers: Record<string, string> = { Authorization: `Bearer ${token}` }) =>
      fetch(`${base}/api/${channel}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...headers },
        body: '{}',
      });
    expect((await call('app.info', {})).status).toBe(401);
    const info = (await (await call('app.info')).json()) as {
      ok: boolean;
      value: { watchDir: string; model: { id: string } };
    };
    expect(info).toMatchObject({ ok: true, value: { watchDir } });
    const [img] = distinctDatasetImages(1);
    copyFileSync(img!.file, path.join(watchDir, 'S1_L_20261125.jpg'));
    let items: { status: string; patientId: string }[] = [];
    for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
      items = ((await (await call('records.list')).json()) as { value: { items: typeof items } }).value.items;
      if (items[0]?.status === 'done') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(items[0]).toMatchObject({ patientId: 'S1', status: 'done' });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}, 180_000);
