import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, sharedDir } from '../../model/paths.ts';

const run = promisify(execFile);
const bin = path.join(repoRoot, 'bin/eardrum.mjs');
const otoscopy = path.join(sharedDir(), 'datasets/otoscopy');
const pick = (label: string, n: number) =>
  readdirSync(path.join(otoscopy, label))
    .sort()
    .slice(0, n)
    .map((f) => path.join(otoscopy, label, f));

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'eardrum-cli-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('eardrum diagnose', () => {
  it('prints one JSON line per file, a clear error line for a bad file, and exits 0', async () => {
    const bad = path.join(tmp, 'broken.jpg');
    await writeFile(bad, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16]));
    const [a, b] = pick('normal', 2);
    const { stdout } = await run(process.execPath, [bin, 'diagnose', '--json', a!, bad, b!], {
      cwd: repoRoot,
    });
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({ path: a, gate: 'eardrum' });
    expect(Object.keys(lines[0].probabilities)).toContain('normal');
    expect(lines[0].timings.inferenceMs).toBeGreaterThan(0);
    // The shipped model decides for every eardrum whether it is sure (issue 9): the field is always there.
    expect(['confident', 'not_sure']).toContain(lines[0].decision);
    expect(Array.isArray(lines[0].notSureReasons)).toBe(true);
    expect(lines[0].notSureReasons.length > 0).toBe(lines[0].decision === 'not_sure');
    expect(lines[1]).toMatchObject({ path: bad, error: { code: 'corrupt' } });
    expect(lines[2].path).toBe(b);
  }, 120_000);

  it('exits non-zero when nothing could be read', async () => {
    const err = await run(process.execPath, [bin, 'diagnose', path.join(tmp, 'missing.png')], {
      cwd: repoRoot,
    }).catch((e) => e);
    expect(err.code).toBe(1);
    expect(err.stdout).toMatch(/not_found/);
  }, 120_000);
});

describe('eardrum eval', () => {
  it('evaluates any <label>/<image> folder, reports labels the model lacks, writes Markdown, PNGs and JSON', async () => {
    const data = path.join(tmp, 'data');
    for (const [label, files] of [
      ['normal', pick('normal', 3)],
      ['effusion', pick('effusion', 2)],
      ['cholesteatoma', pick('aom', 1)],
    ] as const) {
      await mkdir(path.join(data, label), { recursive: true });
      for (const f of files) await copyFile(f, path.join(data, label, path.basename(f)));
    }
    await writeFile(path.join(data, 'normal', 'notes.jpg'), 'not an image');
    const tiny = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#000' } })
      .png()
      .toBuffer();
    await writeFile(path.join(data, 'effusion', 'tiny.png'), tiny);
    const out = path.join(tmp, 'report');
    const json = path.join(tmp, 'report.json');
    const { stdout } = await run(
      process.execPath,
      [bin, 'eval', '--data', data, '--out', out, '--json', json],
      { cwd: repoRoot },
    );
    expect(stdout).toMatch(/Labels in the data that the model lacks.*cholesteatoma/);
    const report = JSON.parse(await readFile(json, 'utf8'));
    expect(report.report.images).toBe(8);
    expect(report.report.unknownLabels).toEqual(['cholesteatoma']);
    const normal = report.report.gate.find((g: { label: string }) => g.label === 'normal');
    expect(normal).toMatchObject({ total: 4, errors: 1 });
    expect(report.report.classification.perLabel.map((p: { label: string }) => p.label)).toContain(
      'effusion',
    );
    for (const f of ['report.md', 'confusion-matrix.png', 'reliability.png']) {
      expect((await readFile(path.join(out, f))).length).toBeGreaterThan(100);
    }
    expect((await sharp(path.join(out, 'confusion-matrix.png')).metadata()).format).toBe('png');
  }, 180_000);
});
