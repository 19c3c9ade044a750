import { createReadStream, existsSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { isInside } from '../util/safe-path.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
  '.map': 'application/json; charset=utf-8',
};

/** No inline script or style, no other origins, no framing: the UI needs only its own files and the API. */
export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; font-src 'self'; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const FALLBACK_PAGE = `<!doctype html><html lang="en"><meta charset="utf-8"><title>Eardrum Workstation</title>
<body><h1>Eardrum Workstation</h1><p>The user interface has not been built (run <code>npm run build:renderer</code>).
The API is available under <code>/api/</code>.</p></body></html>`;

/**
 * Serves the built renderer. Request paths are decoded, resolved under the renderer folder and checked after
 * realpath, so `..`, encoded slashes and symlinks cannot reach other files. Unknown paths without an extension
 * get index.html (client-side routes).
 */
export async function serveStatic(
  req: IncomingMessage,
  res: ServerResponse,
  pathname: string,
  rootDir: string | null,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD' }).end();
    return;
  }
  if (!rootDir || !existsSync(path.join(rootDir, 'index.html'))) {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': CSP });
    res.end(req.method === 'HEAD' ? undefined : FALLBACK_PAGE);
    return;
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    res.writeHead(400).end('Bad path');
    return;
  }
  if (decoded.includes('\0') || decoded.includes('\\') || decoded.split('/').includes('..')) {
    res.writeHead(400).end('Bad path');
    return;
  }
  const root = await realpath(rootDir);
  let file = path.resolve(root, `.${decoded}`);
  let real: string | null = null;
  try {
    real = await realpath(file);
    if (!(await stat(real)).isFile()) real = null;
  } catch {
    real = null;
  }
  if (real && !isInside(root, real)) {
    res.writeHead(404).end('Not found');
    return;
  }
  if (!real) {
    if (path.extname(decoded)) {
      res.writeHead(404).end('Not found');
      return;
    }
    file = path.join(root, 'index.html');
    real = file;
  }
  const ext = path.extname(real).toLowerCase();
  const headers: Record<string, string> = {
    'Content-Type': TYPES[ext] ?? 'application/octet-stream',
    'Cache-Control': ext === '.html' ? 'no-cache' : 'public, max-age=3600',
  };
  if (ext === '.html') headers['Content-Security-Policy'] = CSP;
  res.writeHead(200, headers);
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  createReadStream(real).pipe(res);
}
