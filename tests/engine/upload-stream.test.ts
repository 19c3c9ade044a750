import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { streamUploadToFile } from '../../main/http/upload-stream.ts';
import { removeDir, tempDir } from './helpers/fs-helpers.ts';

const dir = tempDir('upload-stream');
afterAll(() => removeDir(dir));
let n = 0;

/** The body as a stream cut at the given points (a slow client sends it in arbitrary pieces). */
function pieces(body: Buffer, cuts: number[]): Readable {
  const at = [...new Set(cuts.map((c) => c % (body.length + 1)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let prev = 0;
  for (const c of [...at, body.length]) {
    parts.push(body.subarray(prev, c));
    prev = c;
  }
  return Readable.from(parts.filter((p) => p.length > 0));
}

async function run(body: Buffer | string, cuts: number[] = [], maxBytes = 1 << 20) {
  const file = path.join(dir, `u${n++}.bin`);
  try {
    const r = await streamUploadToFile(pieces(Buffer.from(body), cuts), file, { maxBody: 4 << 20, maxBytes });
    return { ...r, data: readFileSync(file) };
  } finally {
    rmSync(file, { force: true });
  }
}

describe('streaming a JSON upload to disk', () => {
  it('decodes dataBase64 exactly and keeps the other fields, however the body is cut and written', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 3000 }),
        fc.record({
          fileName: fc.string({ maxLength: 30 }),
          patientId: fc.option(fc.string({ maxLength: 10 })),
          ear: fc.constantFrom('left', 'right'),
        }),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 12 }),
        async (bytes, meta, dataUrl, escapeSlashes, wrapLines, cuts) => {
          let b64 = Buffer.from(bytes).toString('base64');
          if (wrapLines) b64 = b64.replace(/(.{76})/g, '$1\n');
          if (dataUrl) b64 = `data:image/jpeg;base64,${b64}`;
          let json = JSON.stringify({ ...meta, dataBase64: b64 });
          if (escapeSlashes) json = json.replace(/\//g, '\\/');
          const r = await run(json, cuts);
          expect(Buffer.compare(r.data, Buffer.from(bytes))).toBe(0);
          expect(r.bytes).toBe(bytes.length);
          expect(r.fields).toEqual({ ...meta, dataBase64: '' });
        },
      ),
      { numRuns: 150, seed: 4 },
    );
  });

  it('refuses what is not one JSON object of valid base64, and sizes over the limits', async () => {
    const bad = [
      'null',
      '[]',
      '{"dataBase64": "abc!"}',
      '{"dataBase64": "QQ=A"}',
      '{"dataBase64": "QUJD"',
      '{"dataBase64": "QUJD"} x',
      '{"dataBase64": "QUJD", "dataBase64": "QUJD"}',
      '{"fileName": "a\u0001b", "dataBase64": "QUJD"}',
      '{"fileName": nope}',
      '{"dataBase64": "data:image/png;base64QUJD"}',
      '{"dataBase64": "QUJ"}',
    ];
    for (const body of bad) await expect(run(body), body).rejects.toMatchObject({ code: 'invalid_args' });
    await expect(
      run(JSON.stringify({ dataBase64: Buffer.alloc(2000).toString('base64') }), [], 1000),
    ).rejects.toMatchObject({
      code: 'too_large',
    });
    expect((await run('{ "a": [1, {"b": 2}], "c": null, "dataBase64": "QUJD" }')).fields).toEqual({
      a: [1, { b: 2 }],
      c: null,
      dataBase64: '',
    });
    // A body that starts like a data: URL but is not one is plain base64.
    expect((await run('{"dataBase64": "ZGF0YQ=="}')).data.toString()).toBe('data');
  });
});
