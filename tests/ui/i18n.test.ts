import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import enJson from '../../renderer/i18n/en.json';
import koJson from '../../renderer/i18n/ko.json';
import { en, ko } from '../../renderer/i18n/resources.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
type Tree = { [key: string]: string | Tree };

function keys(tree: Tree, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([k, v]) =>
    typeof v === 'string' ? [`${prefix}${k}`] : keys(v, `${prefix}${k}.`),
  );
}

/** i18next plural keys (`count_one`, `count_other`) stand for their base key. */
const base = (k: string) => k.replace(/_(zero|one|two|few|many|other)$/, '');

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && /\.(ts|tsx)$/.test(e.name))
    .map((e) => path.join(e.parentPath, e.name));
}

describe('translations', () => {
  it('has the same strings in Korean and English (plural forms aside)', () => {
    const enKeys = new Set(keys(enJson as Tree).map(base));
    const koKeys = new Set(keys(koJson as Tree).map(base));
    expect([...enKeys].filter((k) => !koKeys.has(k))).toEqual([]);
    expect([...koKeys].filter((k) => !enKeys.has(k))).toEqual([]);
  });

  it('defines every literal key the renderer asks for', async () => {
    const known = new Set(keys(en as Tree).map(base));
    const missing: string[] = [];
    for (const file of await sources(path.join(root, 'renderer'))) {
      const text = await readFile(file, 'utf8');
      for (const m of text.matchAll(/\bt\(\s*'([a-zA-Z][\w.]*)'/g)) {
        if (!known.has(m[1]!)) missing.push(`${path.relative(root, file)}: ${m[1]}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('uses the usual Korean clinical terms', () => {
    expect(ko.labels).toMatchObject({
      normal: '정상',
      aom: '급성 중이염',
      com: '만성 중이염',
      earwax: '귀지',
      otitis_externa: '외이도염',
      tympanosclerosis: '고막경화증',
      foreign_body: '이물',
      pseudo_membrane: '가성막',
    });
    expect(ko.labels.effusion).toContain('삼출성 중이염');
    expect(ko.labels.ventilation_tube).toContain('환기관');
    expect(ko.gate.not_eardrum).toBe('고막이 보이지 않습니다');
    expect(ko.app.disclaimer).toContain('진단이 아닙니다');
  });
});
