import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { adaptBaseDir, defaultModelDir } from '../../model/classifier.ts';
import { writeModelsPointer } from '../../model/models-pointer.ts';

let root: string;
afterEach(() => rmSync(root, { recursive: true, force: true }));

function resources(pointer: object | null, folders: string[]): string {
  root = mkdtempSync(path.join(os.tmpdir(), 'pointer-'));
  const models = path.join(root, 'models');
  for (const f of folders) {
    mkdirSync(path.join(models, f), { recursive: true });
    writeFileSync(path.join(models, f, 'model-card.json'), '{}');
  }
  if (pointer) writeFileSync(path.join(models, 'current.json'), JSON.stringify(pointer));
  return root;
}

describe('resources/models/current.json', () => {
  it('names the shipped model and, separately, the model adapting starts from', () => {
    const r = resources({ id: 'fine', adaptFrom: 'general' }, ['fine', 'general']);
    expect(defaultModelDir(r)).toBe(path.join(r, 'models', 'fine'));
    expect(adaptBaseDir(r)).toBe(path.join(r, 'models', 'general'));
  });

  it('adapts from the shipped model when no base is named or the named folder is missing', () => {
    let r = resources({ id: 'fine' }, ['fine']);
    expect(adaptBaseDir(r)).toBe(path.join(r, 'models', 'fine'));
    rmSync(r, { recursive: true });
    r = resources({ id: 'fine', adaptFrom: 'gone' }, ['fine']);
    expect(adaptBaseDir(r)).toBe(path.join(r, 'models', 'fine'));
  });

  it('keeps the adaptation base when training points current.json at a new model', async () => {
    const r = resources({ id: 'old', adaptFrom: 'general' }, ['old', 'new', 'general']);
    await writeModelsPointer(path.join(r, 'models'), 'new');
    expect(JSON.parse(readFileSync(path.join(r, 'models', 'current.json'), 'utf8'))).toEqual({
      id: 'new',
      adaptFrom: 'general',
    });
    expect(adaptBaseDir(r)).toBe(path.join(r, 'models', 'general'));
  });
});

describe('the shipped resources', () => {
  it('adapt from a model folder other than the one that diagnoses', () => {
    expect(path.basename(defaultModelDir())).toBe('eardrum-mnv2ft-192-soup-20261130');
    expect(path.basename(adaptBaseDir())).toBe('eardrum-mnv2-192-ens-20261126');
  });
});
