import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createFileProtocolHandler,
  createRendererProtocolHandler,
  isInside,
} from '../../main/electron/app-protocol.ts';

let root: string;
let rendererDir: string;
let dataDir: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'eardrum-protocol-'));
  rendererDir = path.join(root, 'renderer');
  dataDir = path.join(root, 'data');
  await mkdir(path.join(rendererDir, 'assets'), { recursive: true });
  await mkdir(path.join(dataDir, 'library', 'thumbs'), { recursive: true });
  await writeFile(path.join(rendererDir, 'index.html'), '<!doctype html><title>ok</title>');
  await writeFile(path.join(rendererDir, 'assets', 'app.js'), 'console.log(1)');
  await writeFile(path.join(root, 'secret.txt'), 'patient list');
  await writeFile(path.join(dataDir, 'library', 'thumbs', 'a.jpg'), 'jpeg bytes');
  await symlink(path.join(root, 'secret.txt'), path.join(rendererDir, 'assets', 'link.js'));
  await symlink(path.join(root, 'secret.txt'), path.join(dataDir, 'library', 'escape.jpg'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const get = (url: string, method = 'GET') => new Request(url, { method });

describe('eardrum:// renderer protocol', () => {
  it('serves index.html for the root and assets with their types and the CSP', async () => {
    const handle = createRendererProtocolHandler(rendererDir);
    const index = await handle(get('eardrum://app/'));
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await index.text()).toContain('<title>ok</title>');
    const js = await handle(get('eardrum://app/assets/app.js'));
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  });

  it('never serves a file outside the renderer folder', async () => {
    const handle = createRendererProtocolHandler(rendererDir);
    for (const url of [
      'eardrum://app/../secret.txt',
      'eardrum://app/%2e%2e/secret.txt',
      'eardrum://app/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
      'eardrum://app/assets/link.js',
      'eardrum://app/assets/%5c..%5csecret.txt',
    ]) {
      const r = await handle(get(url));
      expect(r.status, url).not.toBe(200);
      expect(await r.text(), url).not.toContain('patient list');
    }
  });

  it('answers other hosts, missing files and writes with errors', async () => {
    const handle = createRendererProtocolHandler(rendererDir);
    expect((await handle(get('eardrum://other/index.html'))).status).toBe(404);
    expect((await handle(get('eardrum://app/missing.js'))).status).toBe(404);
    expect((await handle(get('eardrum://app/index.html', 'POST'))).status).toBe(405);
  });
});

describe('eardrum-file:// image protocol', () => {
  const resolveFile = (kind: string, id: number) =>
    kind === 'thumbnail' && id === 1
      ? path.join(dataDir, 'library', 'thumbs', 'a.jpg')
      : kind === 'original' && id === 2
        ? path.join(root, 'secret.txt')
        : kind === 'original' && id === 3
          ? path.join(dataDir, 'library', 'escape.jpg')
          : null;

  it('serves a stored file by kind and record id', async () => {
    const handle = createFileProtocolHandler({ dataDir, resolveFile });
    const r = await handle(get('eardrum-file://app/files/thumbnail/1'));
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('image/jpeg');
    expect(await r.text()).toBe('jpeg bytes');
  });

  it('refuses paths outside the data folder, also through symlinks', async () => {
    const handle = createFileProtocolHandler({ dataDir, resolveFile });
    expect((await handle(get('eardrum-file://app/files/original/2'))).status).toBe(403);
    expect((await handle(get('eardrum-file://app/files/original/3'))).status).toBe(403);
  });

  it('refuses unknown kinds, bad ids and unknown records', async () => {
    const handle = createFileProtocolHandler({ dataDir, resolveFile });
    for (const url of [
      'eardrum-file://app/files/database/1',
      'eardrum-file://app/files/thumbnail/..%2f..%2fsecret',
      'eardrum-file://app/files/thumbnail/1.5',
      'eardrum-file://app/files/thumbnail/9',
      'eardrum-file://elsewhere/files/thumbnail/1',
    ]) {
      expect((await handle(get(url))).status, url).toBe(404);
    }
  });

  it('compares folders by path.relative, not by prefix', () => {
    expect(isInside('/data', '/data/library/a.jpg')).toBe(true);
    expect(isInside('/data', '/data')).toBe(true);
    expect(isInside('/data', '/data-evil/a.jpg')).toBe(false);
    expect(isInside('/data', '/data/../etc/passwd')).toBe(false);
  });
});
