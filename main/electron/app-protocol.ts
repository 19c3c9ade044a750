/**
 * Two privileged schemes for the window: `eardrum://app/…` serves the built renderer, and
 * `eardrum-file://app/files/<kind>/<id>` serves stored images (originals, thumbnails, heatmaps).
 * A path from a URL never reaches the disk unchecked: it is resolved, real-pathed and required to
 * stay inside its allowed root (compared with path.relative, not startsWith, so `/data-evil` is not
 * inside `/data`).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { FILE_PROTOCOL, fileKindSchema, type FileKind } from '../../common/contract.ts';
import { APP_HOST, APP_SCHEME, contentSecurityPolicy } from './security.ts';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.bmp': 'image/bmp',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.woff2': 'font/woff2',
  '.ico': 'image/x-icon',
};

export function contentTypeFor(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** True when `child` is `root` itself or lies beneath it. */
export function isInside(root: string, child: string): boolean {
  const rel = path.relative(root, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

export interface FsAccess {
  readFile(file: string): Promise<Uint8Array>;
  realpath(file: string): Promise<string>;
}

const nodeFs: FsAccess = { readFile: (f) => fs.readFile(f), realpath: (f) => fs.realpath(f) };

function plain(status: number, text: string): Response {
  return new Response(text, { status, headers: { 'Content-Type': 'text/plain; charset=utf-8' } });
}

async function serveInside(root: string, candidate: string, cache: string, io: FsAccess): Promise<Response> {
  let real: string;
  let realRoot: string;
  try {
    [real, realRoot] = await Promise.all([io.realpath(candidate), io.realpath(root)]);
  } catch {
    return plain(404, 'not found');
  }
  // Checked after realpath so a symlink inside the root cannot point outside it.
  if (!isInside(realRoot, real)) return plain(403, 'forbidden');
  try {
    const body = await io.readFile(real);
    return new Response(body as BodyInit, {
      status: 200,
      headers: {
        'Content-Type': contentTypeFor(real),
        'Cache-Control': cache,
        'Content-Security-Policy': contentSecurityPolicy(),
        'X-Content-Type-Options': 'nosniff',
      },
    });
  } catch {
    return plain(404, 'not found');
  }
}

function parseRequest(request: Request, scheme: string): { pathname: string } | Response {
  if (request.method !== 'GET' && request.method !== 'HEAD') return plain(405, 'method not allowed');
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    return plain(400, 'bad url');
  }
  if (url.protocol !== `${scheme}:` || url.host !== APP_HOST) return plain(404, 'not found');
  let pathname: string;
  try {
    pathname = decodeURIComponent(url.pathname);
  } catch {
    return plain(400, 'bad url');
  }
  if (pathname.includes('\0') || pathname.includes('\\')) return plain(400, 'bad url');
  return { pathname };
}

/** `eardrum://app/<file>` → the built renderer (index.html for `/`). */
export function createRendererProtocolHandler(
  rendererDir: string,
  io: FsAccess = nodeFs,
): (request: Request) => Promise<Response> {
  const root = path.resolve(rendererDir);
  return async (request) => {
    const parsed = parseRequest(request, APP_SCHEME);
    if (parsed instanceof Response) return parsed;
    const relative = parsed.pathname === '/' ? 'index.html' : parsed.pathname.replace(/^\/+/, '');
    const candidate = path.resolve(root, relative);
    if (!isInside(root, candidate)) return plain(403, 'forbidden');
    return serveInside(root, candidate, 'no-cache', io);
  };
}

export interface FileProtocolOptions {
  /** The engine's data folder; every stored file must be inside it. */
  dataDir: string;
  /** Maps a kind and record id to the stored file's absolute path, or null when there is none. */
  resolveFile(kind: FileKind, id: number): Promise<string | null> | string | null;
}

/** `eardrum-file://app/files/<kind>/<id>` → a stored image from the data folder. */
export function createFileProtocolHandler(
  options: FileProtocolOptions,
  io: FsAccess = nodeFs,
): (request: Request) => Promise<Response> {
  return async (request) => {
    const parsed = parseRequest(request, FILE_PROTOCOL);
    if (parsed instanceof Response) return parsed;
    const match = /^\/files\/([a-z]+)\/(\d{1,15})$/.exec(parsed.pathname);
    if (!match) return plain(404, 'not found');
    const kind = fileKindSchema.safeParse(match[1]);
    if (!kind.success) return plain(404, 'not found');
    let resolved: string | null;
    try {
      resolved = await options.resolveFile(kind.data, Number(match[2]));
    } catch {
      return plain(500, 'could not resolve the file');
    }
    if (!resolved) return plain(404, 'not found');
    return serveInside(options.dataDir, path.resolve(resolved), 'private, max-age=31536000, immutable', io);
  };
}
