import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MAX_REQUEST_BYTES,
  engineEventSchema,
  fileUrl,
  recordPageSchema,
  resultSchema,
} from '../../common/contract.ts';
import { startBridge, type Bridge } from '../../main/http/bridge.ts';
import { removeDir, syntheticJpeg, tempDir } from './helpers/fs-helpers.ts';
import { startHarness, type Harness } from './helpers/harness.ts';

let h: Harness;
let bridge: Bridge;
let rendererDir: string;
const TOKEN = 'test-token-0123456789';

/** Raw HTTP (fetch would normalise `..` out of paths before sending them). */
function raw(
  method: string,
  p: string,
  opts: { headers?: Record<string, string>; body?: string | Buffer; port?: number } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: opts.port ?? bridge.port, method, path: p, headers: opts.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    req.on('error', reject);
    if (opts.body) req.write(opts.body);
    req.end();
  });
}

const auth = { Authorization: `Bearer ${TOKEN}` };
const api = (channel: string, body: unknown, headers: Record<string, string> = auth) =>
  fetch(`${bridge.url}/api/${channel}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

beforeAll(async () => {
  h = await startHarness();
  rendererDir = tempDir('renderer');
  mkdirSync(path.join(rendererDir, 'assets'));
  writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><div id="root"></div>');
  writeFileSync(path.join(rendererDir, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(path.join(path.dirname(rendererDir), 'secret.txt'), 'secret');
  symlinkSync('/etc/passwd', path.join(rendererDir, 'assets', 'link.js'));
  bridge = await startBridge({ services: h.services, rendererDir, token: TOKEN });
  writeFileSync(path.join(h.watchDir, 'B1_R_20261120.jpg'), await syntheticJpeg(5));
  await h.settled(1);
});

afterAll(async () => {
  await bridge?.close();
  await h?.close();
  removeDir(rendererDir);
  rmSync(path.join(path.dirname(rendererDir), 'secret.txt'), { force: true });
});

describe('HTTP bridge', () => {
  it('binds loopback and prints a URL carrying the token', () => {
    expect(bridge.host).toBe('127.0.0.1');
    expect(bridge.openUrl).toBe(`${bridge.url}/?token=${TOKEN}`);
  });

  it('refuses API, file and event requests without the right token', async () => {
    const variants: Record<string, string>[] = [
      {},
      { Authorization: 'Bearer wrong' },
      { Authorization: `Basic ${TOKEN}` },
    ];
    for (const headers of variants) {
      const r = await api('records.list', {}, headers);
      expect(r.status).toBe(401);
      expect(await r.json()).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    }
    expect((await fetch(`${bridge.url}/files/original/1`)).status).toBe(401);
    expect((await fetch(`${bridge.url}/api/events`)).status).toBe(401);
    expect((await fetch(`${bridge.url}/api/export.csv?token=nope`)).status).toBe(401);
    // The token in a query is not read on /api and /files (it would sit in URLs, history and logs).
    expect((await fetch(`${bridge.url}/api/export.csv?token=${TOKEN}`)).status).toBe(401);
    expect((await fetch(`${bridge.url}/files/thumbnail/1?token=${TOKEN}`)).status).toBe(401);
    expect((await fetch(`${bridge.url}/api/events?token=${TOKEN}`)).status).toBe(401);
  });

  it('answers channels with the Result envelope, validated by the contract', async () => {
    const r = await api('records.list', { limit: 10 });
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toBe('no-store');
    const body = resultSchema(recordPageSchema).parse(await r.json());
    expect(body.ok && body.value.items[0]).toMatchObject({ patientId: 'B1', ear: 'right' });
    const bad = await api('records.list', { limit: 100000 });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ ok: false, error: { code: 'invalid_args' } });
    const unknown = await api('records.drop', {});
    expect(unknown.status).toBe(404);
    const info = await (await api('app.info', {})).json();
    expect(info).toMatchObject({ ok: true, value: { transport: 'http', model: { id: 'fake-model' } } });
    const missing = await api('records.get', { id: 999 });
    expect(missing.status).toBe(404);
    // Over HTTP the export is a download (below); the save-dialog form of the channel needs Electron.
    expect(await h.services.call('export.csv', {})).toMatchObject({
      ok: false,
      error: { code: 'unsupported' },
    });
  });

  it('requires JSON posts, and refuses oversized bodies before reading them', async () => {
    const form = await fetch(`${bridge.url}/api/records.list`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'a=1',
    });
    expect(form.status).toBe(415);
    expect((await fetch(`${bridge.url}/api/records.list`, { headers: auth })).status).toBe(405);
    const huge = await raw('POST', '/api/diagnose.upload', {
      headers: {
        ...auth,
        'Content-Type': 'application/json',
        'Content-Length': String(MAX_REQUEST_BYTES + 1),
      },
      body: '{}',
    });
    expect(huge.status).toBe(413);
    // Without a declared length the limit holds while streaming.
    const streamed = await new Promise<{ status: number; sent: number }>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: bridge.port,
          method: 'POST',
          path: '/api/diagnose.upload',
          headers: { ...auth, 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
        },
        (res) => {
          res.resume();
          resolve({ status: res.statusCode!, sent });
        },
      );
      req.on('error', (e) => (sent > MAX_REQUEST_BYTES ? undefined : reject(e)));
      const piece = Buffer.alloc(1024 * 1024, 65);
      let sent = 0;
      // Uploads are parsed as they arrive: a well-formed start, then base64 that never ends.
      req.write('{"fileName":"x.jpg","dataBase64":"');
      const pump = () => {
        while (sent <= MAX_REQUEST_BYTES + piece.length && !req.destroyed) {
          sent += piece.length;
          if (!req.write(piece)) return void req.once('drain', pump);
        }
      };
      pump();
    });
    expect(streamed.status).toBe(413);
    const notJson = await raw('POST', '/api/records.list', {
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: '{oops',
    });
    expect(notJson.status).toBe(400);
  });

  it('serves stored images by record id and refuses every path traversal', async () => {
    const id = h.records.list({
      filter: {},
      sort: { field: 'capturedAt', direction: 'asc' },
      offset: 0,
      limit: 1,
    }).items[0]!.id;
    for (const kind of ['original', 'thumbnail', 'overlay'] as const) {
      const row = h.records.row(id)!;
      const r = await fetch(fileUrl(kind, id, { base: bridge.url }), { headers: auth });
      if (kind === 'overlay' && !row.overlay_path) {
        expect(r.status).toBe(404);
        continue;
      }
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/^image\//);
      expect(r.headers.get('cache-control')).toBe('no-store');
    }
    const attempts = [
      '/files/original/../../../../etc/passwd',
      '/files/original/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '/files/../library/originals',
      '/files/original/1/../../x',
      '/files/secret/1',
      '/files/original/-1',
      '/files/original/1e3',
    ];
    for (const p of attempts) {
      const r = await raw('GET', p, { headers: auth });
      expect([400, 404], p).toContain(r.status);
      expect(r.body.toString()).not.toMatch(/root:/);
    }
    for (const p of [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/assets/link.js',
      '/a%00.js',
    ]) {
      const r = await raw('GET', p);
      expect([400, 404], p).toContain(r.status);
      expect(r.body.toString()).not.toMatch(/secret|root:/);
    }
  });

  it('refuses requests naming another host (DNS rebinding) or a foreign origin', async () => {
    const r = await raw('POST', '/api/records.list', {
      headers: { ...auth, 'Content-Type': 'application/json', Host: 'evil.example:80' },
      body: '{}',
    });
    expect(r.status).toBe(403);
    const o = await raw('POST', '/api/records.list', {
      headers: { ...auth, 'Content-Type': 'application/json', Origin: 'http://evil.example' },
      body: '{}',
    });
    expect(o.status).toBe(403);
  });

  it('serves the renderer with a strict CSP and falls back to index.html for app routes', async () => {
    const index = await fetch(`${bridge.url}/records/12`);
    expect(index.status).toBe(200);
    expect(await index.text()).toContain('id="root"');
    const csp = index.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe');
    expect(index.headers.get('x-content-type-options')).toBe('nosniff');
    expect((await fetch(`${bridge.url}/assets/app.js`)).headers.get('content-type')).toMatch(/javascript/);
    expect((await fetch(`${bridge.url}/assets/missing.js`)).status).toBe(404);
  });

  it('streams live events over SSE: status first, then each new record', async () => {
    const ctrl = new AbortController();
    const res = await fetch(`${bridge.url}/api/events`, { signal: ctrl.signal, headers: auth });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    const events: unknown[] = [];
    let buf = '';
    const readUntil = async (pred: () => boolean) => {
      while (!pred()) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += new TextDecoder().decode(value);
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const chunk = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = chunk.split('\n').find((l) => l.startsWith('data: '));
          if (data) events.push(engineEventSchema.parse(JSON.parse(data.slice(6))));
        }
      }
    };
    await readUntil(() => events.length >= 1);
    expect(events[0]).toMatchObject({ type: 'status' });
    writeFileSync(path.join(h.watchDir, 'live.jpg'), await syntheticJpeg(6));
    await readUntil(() => events.some((e) => (e as { type: string }).type === 'done'));
    const done = events.find((e) => (e as { type: string }).type === 'done') as {
      record: { fileName: string };
    };
    expect(done.record.fileName).toBe('live.jpg');
    ctrl.abort();
  });

  it('downloads the CSV export with the filters of the board', async () => {
    const args = encodeURIComponent(JSON.stringify({ filter: { patientId: 'B1' } }));
    const r = await fetch(`${bridge.url}/api/export.csv?args=${args}`, { headers: auth });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-disposition')).toMatch(
      /^attachment; filename="eardrum-export-\d{8}-\d{4}\.csv"$/,
    );
    const bytes = Buffer.from(await r.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = bytes.toString('utf8').slice(1).trimEnd().split('\r\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('B1_R_20261120.jpg');
    const bad = await fetch(`${bridge.url}/api/export.csv?args=%7Bnope`, { headers: auth });
    expect(bad.status).toBe(400);
  });

  it('will not listen beyond loopback without a password, and logs in with one', async () => {
    await expect(startBridge({ services: h.services, host: '0.0.0.0', port: 0 })).rejects.toMatchObject({
      code: 'forbidden',
    });
    await expect(
      startBridge({ services: h.services, host: '0.0.0.0', port: 0, password: 'short' }),
    ).rejects.toMatchObject({ code: 'forbidden' });
    const open = await startBridge({
      services: h.services,
      host: '0.0.0.0',
      port: 0,
      password: 'correct horse battery',
    });
    try {
      const login = (password: string) =>
        raw('POST', '/api/auth.login', {
          port: open.port,
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ password }),
        });
      expect((await login('wrong password')).status).toBe(401);
      const ok = await login('correct horse battery');
      expect(ok.status).toBe(200);
      const token = JSON.parse(ok.body.toString()).value.token as string;
      expect(token).toBe(open.token);
      expect(token).not.toBe(TOKEN);
      for (let i = 0; i < 5; i++) await login('guess');
      expect((await login('correct horse battery')).status).toBe(429);
    } finally {
      await open.close();
    }
  });
});
