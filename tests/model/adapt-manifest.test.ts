import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AdaptInputError, readAdaptManifest } from '../../model/adapt/manifest.ts';

const LABELS = ['normal', 'aom', 'ventilation_tube'];
let dir: string;

function photo(name: string): void {
  mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
  writeFileSync(path.join(dir, name), 'x');
}

function manifest(lines: string[]): void {
  writeFileSync(path.join(dir, 'manifest.csv'), lines.join('\n') + '\n');
}

function problems(): string[] {
  try {
    readAdaptManifest(dir, LABELS);
  } catch (err) {
    expect(err).toBeInstanceOf(AdaptInputError);
    return (err as AdaptInputError).problems;
  }
  throw new Error('expected the manifest to be refused');
}

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'adapt-manifest-'));
  for (const n of ['a1.jpg', 'a2.jpg', 'a3.jpg', 'n/1.jpg', 'n/2.jpg', 'n/3.jpg']) photo(n);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('readAdaptManifest', () => {
  it('reads file,label rows (other columns and a BOM ignored) and resolves paths inside the folder', () => {
    writeFileSync(
      path.join(dir, 'manifest.csv'),
      '\uFEFFfile,label,split,note\na1.jpg,aom,train,x\na2.jpg,aom,,\na3.jpg,aom,,\nn/1.jpg,normal,,\nn/2.jpg,normal,,\nn/3.jpg,normal,,\n',
    );
    const photos = readAdaptManifest(dir, LABELS);
    expect(photos.map((p) => [p.name, p.label, p.line])).toEqual([
      ['a1.jpg', 'aom', 2],
      ['a2.jpg', 'aom', 3],
      ['a3.jpg', 'aom', 4],
      ['n/1.jpg', 'normal', 5],
      ['n/2.jpg', 'normal', 6],
      ['n/3.jpg', 'normal', 7],
    ]);
    expect(photos[3]!.file).toBe(path.join(dir, 'n', '1.jpg'));
  });

  it('names the folder when it does not exist, and the manifest when it is missing', () => {
    rmSync(dir, { recursive: true });
    expect(problems()).toEqual([`${dir}: no such folder`]);
    mkdirSync(dir);
    expect(problems()[0]).toMatch(/manifest\.csv: missing/);
  });

  it('needs the file and label columns', () => {
    manifest(['path,diagnosis', 'a1.jpg,aom']);
    expect(problems()[0]).toMatch(/must name the columns file and label \(found: path,diagnosis\)/);
  });

  it('lists every bad row by line and file: unknown label, missing photo, duplicates, paths outside', () => {
    manifest([
      'file,label',
      'a1.jpg,aom',
      'a2.jpg,aom',
      'a3.jpg,aom',
      'n/1.jpg,normal',
      'n/2.jpg,normal',
      'n/3.jpg,normal',
      'n/1.jpg,otitis_media',
      'gone.jpg,normal',
      'a1.jpg,aom',
      '../outside.jpg,normal',
      ',normal',
      'n/2.jpg,',
    ]);
    const p = problems();
    expect(p).toContain(
      'manifest.csv line 8: n/1.jpg: unknown label "otitis_media" (the base model\'s labels: normal, aom, ventilation_tube)',
    );
    expect(p).toContain('manifest.csv line 9: gone.jpg: photo not found');
    expect(p).toContain('manifest.csv line 10: a1.jpg: listed twice (also on line 2)');
    expect(p.some((l) => l.startsWith('manifest.csv line 11: ../outside.jpg: outside'))).toBe(true);
    expect(p).toContain('manifest.csv line 12: no file name');
    expect(p).toContain('manifest.csv line 13: n/2.jpg: no label');
  });

  it('refuses a label with fewer than 3 photos, naming it', () => {
    manifest([
      'file,label',
      'a1.jpg,aom',
      'a2.jpg,aom',
      'n/1.jpg,normal',
      'n/2.jpg,normal',
      'n/3.jpg,normal',
    ]);
    expect(problems()).toEqual([
      'label "aom": 2 photos; at least 3 are needed (add photos or remove the label)',
    ]);
  });

  it('refuses an empty manifest', () => {
    manifest(['file,label']);
    expect(problems()[0]).toMatch(/lists no photos/);
  });

  it('says so when the manifest is not CSV', () => {
    manifest(['file,label', '"a1.jpg,aom']);
    expect(problems()[0]).toMatch(/not a readable CSV file/);
  });
});
