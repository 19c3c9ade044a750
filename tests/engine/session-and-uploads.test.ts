import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_IMAGE_BYTES } from '../../common/contract.ts';
import { startBridge, type Bridge } from '../../main/http/bridge.ts';
import { FakeDiagnoser } from './helpers/fake-diagnoser.ts';
import { removeDir, syntheticJpeg, tempDir } from './helpers/fs-helpers.ts';
import { startHarness, type Harness } from './helpers/harness.ts';

const TOKEN = 'session-token-0123456789';
let h: Harness;
let bridge: Bridge;
let rendererDir: string;

function get(p: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined> }>(
    (resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: bridge.port, path: p, headers }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers }));
      });
      req.on('error', reject);
      req.end();
    },
  );
}

beforeAll(async () => {
  // A slow model keeps uploads in flight long enough to see the limit.
  h = await startHarness({ diagnoser: new FakeDiagnoser({ delayMs: 300 }) });
  rendererDir = tempDir('renderer');
  mkdirSync(rendererDir, { recursive: true });
  writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><div id="root"></div>');
  bridge = await startBridge({ services: h.services, rendererDir, token: TOKEN });
  writeFileSync(path.join(h.watchDir, 'S1_L.jpg'), await syntheticJpeg(601));
  await h.settled(1);
});

afterAll(async () => {
  await bridge?.close();
  await h?.close();
  removeDir(rendererDir);
});

describe('the session cookie', () => {
  it('trades the printed URL token for an HttpOnly SameSite=Strict cookie and takes it out of the address bar', async () => {
    const first = await get(`/?token=${TOKEN}&lang=ko`);
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe('/?lang=ko');
    expect(first.headers['cache-control']).toBe('no-store');
    const cookie = String(first.headers['set-cookie']);
    expect(cookie).toBe(`eardrum_session_${bridge.port}=${TOKEN}; Path=/; HttpOnly; SameSite=Strict`);
    // The cookie alone opens the API, the images (not cached anywhere) and the event stream.
    const jar = { Cookie: `other=1; eardrum_session_${bridge.port}=${TOKEN}` };
    const list = await fetch(`${bridge.url}/api/records.list`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...jar },
      body: '{}',
    });
    expect(list.status).toBe(200);
    const id = ((await list.json()) as { value: { items: { id: number }[] } }).value.items[0]!.id;
    const image = await get(`/files/thumbnail/${id}`, jar);
    expect(image.status).toBe(200);
    expect(image.headers['cache-control']).toBe('no-store');
    // A cookie of another port's server, or a wrong one, is nothing.
    expect((await get(`/files/thumbnail/${id}`, { Cookie: `eardrum_session_1=${TOKEN}` })).status).toBe(401);
    expect(
      (await get(`/files/thumbnail/${id}`, { Cookie: `eardrum_session_${bridge.port}=nope` })).status,
    ).toBe(401);
    // Scripts keep using the bearer header.
    expect((await get(`/files/thumbnail/${id}`, { Authorization: `Bearer ${TOKEN}` })).status).toBe(200);
  });

  it('strips a wrong token from the address bar too, without a cookie', async () => {
    const r = await get('/board?token=wrong');
    expect(r.status).toBe(303);
    expect(r.headers.location).toBe('/board');
    expect(r.headers['set-cookie']).toBeUndefined();
  });
});

describe('hand uploads', () => {
  const body = async (seed: number) => {
    const dataBase64 = (await syntheticJpeg(seed, 256)).toString('base64');
    return JSON.stringify({ fileName: `u${seed}.jpg`, patientId: `U${seed}`, dataBase64 });
  };
  const upload = async (seed: number | string) => {
    const r = await fetch(`${bridge.url}/api/diagnose.upload`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}` },
      body: typeof seed === 'number' ? await body(seed) : seed,
    });
    return {
      status: r.status,
      retry: r.headers.get('retry-after'),
      body: (await r.json()) as { ok: boolean; error?: { code: string } },
    };
  };

  it('takes at most two at once: the third is told 429 with Retry-After, and nothing of it is kept', async () => {
    // The four bodies made first and sent together: made inside each request, a photo encoded late on a
    // busy machine could arrive after one of the first two was done and its place free again.
    const bodies = await Promise.all([701, 702, 703, 704].map(body));
    const results = await Promise.all(bodies.map(upload));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(2);
    const refused = results.filter((r) => r.status === 429);
    expect(refused).toHaveLength(2);
    for (const r of refused) {
      expect(r.retry).toBe('2');
      expect(r.body).toMatchObject({ ok: false, error: { code: 'too_many_requests' } });
    }
    expect(h.services.uploads.inUse).toBe(0);
    // Retried after the hint, they go through.
    expect((await upload(705)).status).toBe(200);
    // No temporary upload is left behind.
    expect(readdirSync(path.join(h.dataDir, 'library', 'tmp'))).toEqual([]);
  });

  it('streams a 24 MB upload to disk: the 33 MB JSON body never becomes a string on the heap', async () => {
    // A JPEG whose data runs on for 24 MB: read, stored, then diagnosed (or refused) like any upload.
    const jpeg = await syntheticJpeg(706);
    const big = Buffer.concat([jpeg.subarray(0, jpeg.length - 2), Buffer.alloc(24 * 1024 * 1024, 7)]);
    expect(big.length).toBeLessThan(MAX_IMAGE_BYTES);
    const body = Buffer.from(`{"fileName":"big.jpg","dataBase64":"${big.toString('base64')}"}`);
    const base = process.memoryUsage().heapUsed;
    let peak = base;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 2);
    try {
      const r = await fetch(`${bridge.url}/api/diagnose.upload`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}` },
        body,
      });
      expect(r.status).toBeLessThan(500);
    } finally {
      clearInterval(sampler);
    }
    // Reading it as JSON would put the whole body on the heap as one string (33 MB) before decoding it.
    expect(peak - base).toBeLessThan(16 * 1024 * 1024);
    expect(readdirSync(path.join(h.dataDir, 'library', 'tmp'))).toEqual([]);
  });
});
