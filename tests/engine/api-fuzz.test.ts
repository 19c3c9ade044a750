/**
 * Property-based test of the whole contract through the HTTP bridge: every channel gets random and boundary
 * arguments (impossible dates, huge and negative numbers, wrong types, hostile strings, missing and extra
 * fields). Whatever it is sent, the bridge answers a Result envelope with a status below 500, in bounded time.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { channelNames, channels, resultSchema, type ChannelName } from '../../common/contract.ts';
import { startBridge, type Bridge } from '../../main/http/bridge.ts';
import { syntheticJpeg } from './helpers/fs-helpers.ts';
import { startHarness, type Harness } from './helpers/harness.ts';

const TOKEN = 'fuzz-token-0123456789';
let h: Harness;
let bridge: Bridge;
let jpegBase64 = '';
const seen = { requests: 0, status5xx: 0, byStatus: new Map<number, number>() };

const DATES = [
  '2026-13-45',
  '9999-12-31',
  '0000-00-00',
  '0999-01-01',
  '2026-02-29',
  '2024-02-29',
  '2026-02-30',
  '2026-11-25T25:61:00Z',
  '2026-11-25T23:59:59.999999999+14:00',
  '2026-11-25T00:00:00-15:00',
  '9999-12-31T23:59:59-14:00',
  '2026-11-25 09:30',
  '20261125',
  '',
];
const STRINGS = [
  ...DATES,
  ' ',
  '        ',
  'a'.repeat(5000),
  '../../etc/passwd',
  '\u0000',
  '=1+1',
  'see;=HYPERLINK("x")',
  're:^(?<patient>(a|a)+)$',
  're:(?<patient>a)\\1',
  '{patient}_{ear}[_{date}]',
  '{nope}',
  '[',
  '%_\\',
  '홍길동',
  'left',
  'eardrum',
  'aom',
  'override',
  'capturedAt',
  'desc',
  'ko',
  'not base64!',
  'AAAA',
];
const NUMBERS = [
  0,
  -0,
  1,
  -1,
  0.5,
  2,
  3,
  50,
  100,
  500,
  501,
  840,
  841,
  -841,
  2 ** 31,
  2 ** 53 + 2,
  -(2 ** 53),
  1e308,
  -1e308,
  5e-324,
];

/** Random JSON of any shape: the wrong type anywhere. */
const anyJson = fc.jsonValue({ maxDepth: 2 });

/** Values for one field: what its schema expects, at its boundaries, or something else entirely. */
function field(schema: z.ZodType, key: string, depth = 0): fc.Arbitrary<unknown> {
  const def = (schema as unknown as { def: Record<string, unknown> & { type: string } }).def;
  const inner = (s: unknown) => field(s as z.ZodType, key, depth);
  let typed: fc.Arbitrary<unknown>;
  switch (def.type) {
    case 'default':
    case 'optional':
    case 'nullable':
      return fc.oneof(inner(def.innerType), fc.constant(null));
    case 'object':
      typed = depth > 2 ? anyJson : objectOf(schema, depth + 1);
      break;
    case 'string':
      typed =
        key === 'watchDir'
          ? // Never a real folder of this machine (the fuzz must not point the watcher at `/`), except ours.
            fc.oneof(
              fc.constantFrom(
                '',
                'relative/inbox',
                '/no/such/folder',
                h.watchDir,
                path.join(h.watchDir, 'x'),
              ),
              fc.string().filter((s) => !(path.isAbsolute(s) && existsSync(s))),
            )
          : key === 'dataBase64'
            ? fc.oneof(
                fc.constantFrom(jpegBase64, `data:image/jpeg;base64,${jpegBase64}`, 'AAAA', '===', '!'),
                fc.base64String(),
              )
            : fc.oneof(fc.constantFrom(...STRINGS), fc.string({ unit: 'grapheme', maxLength: 40 }));
      break;
    case 'number':
      typed = fc.oneof(
        fc.constantFrom(...NUMBERS),
        fc.integer(),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
      );
      break;
    case 'boolean':
      typed = fc.boolean();
      break;
    case 'enum':
      typed = fc.constantFrom(
        ...(Object.values(def.entries as Record<string, string>) as string[]),
        'bogus',
        '',
      );
      break;
    case 'array':
      typed = fc.array(inner(def.element), { maxLength: 4 });
      break;
    case 'record':
      typed = fc.dictionary(
        fc.constantFrom('eardrum', 'other', '__proto__', ''),
        field(def.valueType as z.ZodType, key, depth),
        { maxKeys: 2 },
      );
      break;
    default:
      typed = anyJson;
  }
  return fc.oneof({ weight: 4, arbitrary: typed }, { weight: 1, arbitrary: anyJson });
}

function objectOf(schema: z.ZodType, depth = 0): fc.Arbitrary<Record<string, unknown>> {
  const def = (
    schema as unknown as { def: { type: string; shape?: Record<string, z.ZodType>; innerType?: z.ZodType } }
  ).def;
  if (def.type === 'default' || def.type === 'optional') return objectOf(def.innerType!, depth);
  const shape = def.shape ?? {};
  const parts = Object.fromEntries(Object.entries(shape).map(([k, s]) => [k, field(s, k, depth)]));
  return fc.record(parts, { requiredKeys: [] });
}

function argsFor(channel: ChannelName): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 6, arbitrary: objectOf(channels[channel].args) },
    { weight: 1, arbitrary: anyJson },
    { weight: 1, arbitrary: fc.constantFrom(null, [], 0, '', true, {}) },
  );
}

async function post(p: string, body: string): Promise<{ status: number; type: string; text: string }> {
  const r = await fetch(`${bridge.url}${p}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}` },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await r.text();
  seen.requests++;
  seen.byStatus.set(r.status, (seen.byStatus.get(r.status) ?? 0) + 1);
  if (r.status >= 500) seen.status5xx++;
  return { status: r.status, type: r.headers.get('content-type') ?? '', text };
}

const envelope = resultSchema(z.unknown());

function expectEnvelope(r: { status: number; type: string; text: string }, what: string): void {
  expect(r.status, `${what} → ${r.status} ${r.text.slice(0, 300)}`).toBeLessThan(500);
  if (r.type.startsWith('text/csv')) {
    expect(r.status).toBe(200);
    return;
  }
  const parsed = envelope.safeParse(JSON.parse(r.text));
  expect(parsed.success, `${what}: not a Result envelope: ${r.text.slice(0, 300)}`).toBe(true);
  expect(parsed.data!.ok, `${what}: status ${r.status} but ok ${String(parsed.data!.ok)}`).toBe(
    r.status === 200,
  );
}

beforeAll(async () => {
  h = await startHarness();
  bridge = await startBridge({ services: h.services, token: TOKEN });
  jpegBase64 = (await syntheticJpeg(4242)).toString('base64');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(path.join(h.watchDir, 'F1_L_20261101.jpg'), await syntheticJpeg(4243));
  writeFileSync(path.join(h.watchDir, 'broken.jpg'), 'not a picture');
  await h.settled(2);
}, 60_000);

afterAll(async () => {
  await bridge?.close();
  await h?.close();
  console.log(
    `api fuzz: ${seen.requests} requests, ${seen.status5xx} answers ≥ 500; by status ${JSON.stringify(Object.fromEntries(seen.byStatus))}`,
  );
});

describe('dates and numbers are checked before use', () => {
  it('answers an impossible date 400 on the board, the chart and the CSV download, never 500 or a dropped connection', async () => {
    for (const channel of ['records.list', 'records.countsPerDay'] as const) {
      for (const filter of [{ from: '2026-13-45' }, { to: '2026-02-30' }, { from: '2026-11-25T24:00Z' }]) {
        const r = await post(`/api/${channel}`, JSON.stringify({ filter }));
        expect(r.status, `${channel} ${JSON.stringify(filter)}`).toBe(400);
        expect(JSON.parse(r.text)).toMatchObject({ ok: false, error: { code: 'invalid_args' } });
        expect(JSON.parse(r.text).error.message).toMatch(/filter\.(from|to): expected a real date/);
      }
    }
    const q = encodeURIComponent(JSON.stringify({ filter: { from: '2026-13-45' } }));
    const csv = await fetch(`${bridge.url}/api/export.csv?args=${q}`, {
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    expect(csv.status).toBe(400);
    expect(await csv.json()).toMatchObject({ ok: false, error: { code: 'invalid_args' } });
  });

  it('reads the year-9999 bounds as "no limit" and "nothing", not as zero rows by accident', async () => {
    const all = h.records.counts().total;
    const list = async (filter: object) =>
      (
        JSON.parse((await post('/api/records.list', JSON.stringify({ filter }))).text) as {
          value: { total: number };
        }
      ).value.total;
    expect(await list({ to: '9999-12-31' })).toBe(all);
    expect(await list({ to: '9999-12-31T23:59:59-14:00' })).toBe(all);
    expect(await list({ from: '1000-01-01', to: '9999-12-31' })).toBe(all);
    expect(await list({ from: '9999-12-31T23:00:00-14:00' })).toBe(0);
  });
});

describe('every channel through the HTTP bridge, fed random and boundary arguments', () => {
  it.each(channelNames)(
    '%s answers a Result envelope with a status below 500',
    async (channel) => {
      const deadline = Date.now() + 8_000;
      await fc.assert(
        fc.asyncProperty(argsFor(channel), async (args) => {
          const body = JSON.stringify(args);
          expectEnvelope(await post(`/api/${channel}`, body), `${channel} ${body.slice(0, 200)}`);
        }),
        {
          numRuns: 60,
          interruptAfterTimeLimit: Math.max(1000, deadline - Date.now()),
          seed: 20261130 + channel.length,
        },
      );
    },
    30_000,
  );

  it('does the same for the CSV download (GET with ?args=) and the login endpoint', async () => {
    await fc.assert(
      fc.asyncProperty(argsFor('export.csv'), async (args) => {
        const q = encodeURIComponent(JSON.stringify(args));
        const r = await fetch(`${bridge.url}/api/export.csv?args=${q}`, {
          headers: { Authorization: `Bearer ${TOKEN}` },
          signal: AbortSignal.timeout(10_000),
        });
        const text = await r.text();
        expectEnvelope(
          { status: r.status, type: r.headers.get('content-type') ?? '', text },
          `GET export ${q}`,
        );
      }),
      { numRuns: 60, interruptAfterTimeLimit: 8_000, seed: 7 },
    );
  }, 30_000);

  it('answers malformed logins 400 before authentication, counts them against the limit, and refuses blank passwords', async () => {
    const pw = await startBridge({ services: h.services, token: TOKEN, password: 'correct horse' });
    try {
      const login = async (body: string) => {
        const r = await fetch(`${pw.url}/api/auth.login`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body,
        });
        return {
          status: r.status,
          body: envelope.parse(await r.json()),
          retry: r.headers.get('retry-after'),
        };
      };
      const statuses: number[] = [];
      for (const body of ['null', '[]', '{"password":null}', '{"password":1}', '{']) {
        const r = await login(body);
        statuses.push(r.status);
        expect(r.body.ok).toBe(false);
      }
      expect(statuses).toEqual([400, 400, 400, 400, 400]);
      // Five malformed attempts count like five wrong passwords: the sixth, even right, is refused.
      const sixth = await login('{"password":"correct horse"}');
      expect(sixth.status).toBe(429);
      expect(sixth.retry).toBe('60');
    } finally {
      await pw.close();
    }
    for (const password of ['        ', ' \t  \n   ', '  short  ']) {
      await expect(startBridge({ services: h.services, host: '0.0.0.0', port: 0, password })).rejects.toThrow(
        /at least 8 characters/,
      );
    }
  });

  it('saw no answer of 500 or above, and the engine still works', async () => {
    expect(seen.requests).toBeGreaterThan(500);
    expect(seen.status5xx).toBe(0);
    const r = await post('/api/app.info', '{}');
    expect(r.status).toBe(200);
  });
});
