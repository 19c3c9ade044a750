import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { EngineEvent } from '../../common/contract.ts';
import {
  ErrorCodes,
  HTTP_API_PREFIX,
  HTTP_EVENTS_PATH,
  HTTP_EXPORT_PATH,
  HTTP_LOGIN_PATH,
  MAX_REQUEST_BYTES,
  TOKEN_QUERY,
  fileKindSchema,
  loginArgsSchema,
  parseArgs,
} from '../../common/contract.ts';
import { suggestedCsvName } from '../api/handlers.ts';
import { writeCsv } from '../export/csv-export.ts';
import type { Services } from '../services.ts';
import { EngineError, toEngineError } from '../util/errors.ts';
import type { Logger } from '../util/logger.ts';
import { silentLogger } from '../util/logger.ts';
import {
  LoginThrottle,
  isLoopbackHost,
  newToken,
  presentedTokens,
  secretEquals,
  sessionCookie,
  withoutTokenQuery,
} from './auth.ts';
import { sendJson, sendError, sendResult } from './json-responses.ts';
import { receiveUpload } from './upload-route.ts';
import { serveStatic } from './static-files.ts';
import { buildWhere } from '../store/filters.ts';

const MAX_URL_LENGTH = 16 * 1024;
const MAX_SSE_CLIENTS = 32;
const HEARTBEAT_MS = 15_000;
/** Passwords shorter than this are refused: the bridge would expose patient data to the network. */
export const MIN_PASSWORD_LENGTH = 8;

/** At least MIN_PASSWORD_LENGTH characters once blanks at either end are set aside (8 spaces is no password). */
export function passwordStrongEnough(password: string | undefined): password is string {
  return password !== undefined && password.trim().length >= MIN_PASSWORD_LENGTH;
}

export interface BridgeOptions {
  services: Services;
  host?: string;
  port?: number;
  /** Required when `host` is not a loopback address. */
  password?: string;
  /** Built renderer (index.html and assets); null serves a short notice page. */
  rendererDir?: string | null;
  /** Fixed token (tests); default a fresh random one per launch. */
  token?: string;
  logger?: Logger;
}

export interface Bridge {
  readonly url: string;
  /** The URL with the token, to open in a browser. */
  readonly openUrl: string;
  readonly token: string;
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

const COMMON_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

function hasDotSegment(rawPath: string): boolean {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return true;
  }
  return decoded.split(/[/\\]/).some((seg) => seg === '..' || seg === '.') || decoded.includes('\0');
}

/** Reads a JSON body up to `limit` bytes; larger bodies are refused before they are buffered. */
async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    throw new EngineError(ErrorCodes.tooLarge, `The request body is larger than ${limit} bytes.`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit)
      throw new EngineError(ErrorCodes.tooLarge, `The request body is larger than ${limit} bytes.`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new EngineError(ErrorCodes.invalidArgs, 'The request body is not valid JSON.');
  }
}

/**
 * The HTTP bridge of the API contract: `POST /api/<channel>` with the JSON args, Server-Sent Events at
 * `/api/events`, stored images at `/files/<kind>/<id>`, the CSV export as a download, and the built renderer.
 * Every /api and /files request needs the per-launch token. Binding beyond loopback needs a password.
 */
export async function startBridge(opts: BridgeOptions): Promise<Bridge> {
  const s = opts.services;
  const host = opts.host ?? '127.0.0.1';
  const logger = opts.logger ?? silentLogger;
  const loopback = isLoopbackHost(host);
  if (!loopback && !passwordStrongEnough(opts.password)) {
    throw new EngineError(
      ErrorCodes.forbidden,
      `Listening on ${host} makes patient data reachable from the network: configure a password of at least ` +
        `${MIN_PASSWORD_LENGTH} characters, not counting blanks at either end (EARDRUM_PASSWORD or --password-file), ` +
        'or use 127.0.0.1.',
    );
  }
  const token = opts.token ?? newToken();
  const throttle = new LoginThrottle();
  const sseClients = new Set<ServerResponse>();
  let port = opts.port ?? 0;

  const authorized = (req: IncomingMessage) => presentedTokens(req, port).some((t) => secretEquals(t, token));

  /** Rejects requests whose Host header names another site (DNS rebinding) when bound to loopback. */
  const hostAllowed = (req: IncomingMessage) => {
    if (!loopback) return true;
    const h = (req.headers.host ?? '').toLowerCase();
    const name = h.startsWith('[') ? h.slice(0, h.indexOf(']') + 1) : h.split(':')[0]!;
    return isLoopbackHost(name);
  };

  const originAllowed = (req: IncomingMessage) => {
    const origin = req.headers.origin;
    if (!origin) return true;
    try {
      return new URL(origin).host === req.headers.host;
    } catch {
      return false;
    }
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    for (const [k, v] of Object.entries(COMMON_HEADERS)) res.setHeader(k, v);
    if ((req.url ?? '').length > MAX_URL_LENGTH)
      return sendError(res, ErrorCodes.tooLarge, 'The URL is too long.', 414);
    if (!hostAllowed(req)) return sendError(res, ErrorCodes.forbidden, 'Unexpected Host header.', 403);
    if (!originAllowed(req))
      return sendError(res, ErrorCodes.forbidden, 'Cross-origin requests are not allowed.', 403);
    // URL parsing would quietly resolve `..`; a request that tries it is refused outright instead.
    const rawPath = (req.url ?? '/').split('?')[0]!;
    if (hasDotSegment(rawPath)) return sendError(res, ErrorCodes.invalidArgs, 'Bad path.', 400);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const p = url.pathname;

    if (p === HTTP_LOGIN_PATH) return login(req, res);
    const isApi = p.startsWith(HTTP_API_PREFIX) || p === '/api';
    const isFile = p.startsWith('/files/');
    if (!isApi && !isFile) {
      // The printed URL's token becomes the session cookie, and leaves the address bar and history.
      const offered = url.searchParams.get(TOKEN_QUERY);
      if (offered !== null && (req.method === 'GET' || req.method === 'HEAD')) {
        if (secretEquals(offered, token)) res.setHeader('Set-Cookie', sessionCookie(port, token));
        res.writeHead(303, { Location: withoutTokenQuery(url), 'Cache-Control': 'no-store' });
        return void res.end();
      }
      return serveStatic(req, res, p, opts.rendererDir ?? null);
    }
    if (!authorized(req)) {
      return sendError(
        res,
        ErrorCodes.unauthorized,
        'Missing or wrong access token. Open the URL printed at start.',
      );
    }
    if (isFile) return serveFile(req, res, p);
    if (p === HTTP_EVENTS_PATH) return events(req, res);
    if (p === HTTP_EXPORT_PATH) return exportCsv(req, res, url);
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      return sendError(res, ErrorCodes.invalidArgs, 'Use POST with a JSON body.', 405);
    }
    const ct = String(req.headers['content-type'] ?? '');
    if (!/^application\/json\b/i.test(ct)) {
      return sendError(res, ErrorCodes.invalidArgs, 'Send the arguments as application/json.', 415);
    }
    const channel = p.slice(HTTP_API_PREFIX.length);
    // Uploads are streamed to disk, at most two at a time, rather than read into memory as JSON.
    if (channel === 'diagnose.upload') return sendResult(res, await receiveUpload(s, req));
    const body = await readJson(req, MAX_REQUEST_BYTES);
    sendResult(res, await s.call(channel, body));
  }

  async function login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') return sendError(res, ErrorCodes.invalidArgs, 'Use POST.', 405);
    if (!opts.password)
      return sendError(
        res,
        ErrorCodes.unsupported,
        'No password is configured; use the URL printed at start.',
        404,
      );
    const addr = req.socket.remoteAddress ?? '?';
    if (throttle.blocked(addr)) {
      res.setHeader('Retry-After', '60');
      return sendError(res, ErrorCodes.forbidden, 'Too many wrong passwords; wait a minute.', 429);
    }
    // Every attempt counts against the limit, malformed ones too (they are guesses as much as wrong ones).
    let body: unknown;
    try {
      body = await readJson(req, 4096);
    } catch (err) {
      throttle.fail(addr);
      throw err;
    }
    const args = loginArgsSchema.safeParse(body);
    if (!args.success) {
      throttle.fail(addr);
      return sendError(res, ErrorCodes.invalidArgs, 'Send {"password": "..."} as JSON.', 400);
    }
    if (!secretEquals(args.data.password, opts.password)) {
      throttle.fail(addr);
      return sendError(res, ErrorCodes.unauthorized, 'Wrong password.');
    }
    res.setHeader('Set-Cookie', sessionCookie(port, token));
    sendJson(res, 200, { ok: true, value: { token } });
  }

  async function serveFile(req: IncomingMessage, res: ServerResponse, p: string): Promise<void> {
    const m = /^\/files\/([a-z]+)\/(\d{1,12})$/.exec(p);
    const kind = m ? fileKindSchema.safeParse(m[1]) : null;
    if (!m || !kind?.success) return sendError(res, ErrorCodes.notFound, 'No such file.');
    const row = await s.store.row(Number(m[2]));
    const rel = row ? row[s.library.kindColumn(kind.data)] : null;
    const abs = rel ? await s.library.resolve(rel) : null;
    if (!abs) return sendError(res, ErrorCodes.notFound, 'No such file.');
    const ext = path.extname(abs).toLowerCase();
    const type =
      {
        '.jpg': 'image/jpeg',
        '.png': 'image/png',
        '.webp': 'image/webp',
        '.tif': 'image/tiff',
        '.bmp': 'image/bmp',
      }[ext] ?? 'application/octet-stream';
    const st = await stat(abs);
    res.writeHead(200, {
      'Content-Type': type,
      'Content-Length': st.size,
      // Patient photos never rest in a browser's or proxy's cache.
      'Cache-Control': 'no-store',
      'Content-Security-Policy': "default-src 'none'",
    });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(abs).pipe(res);
  }

  function events(req: IncomingMessage, res: ServerResponse): void {
    if (sseClients.size >= MAX_SSE_CLIENTS)
      return sendError(res, ErrorCodes.tooLarge, 'Too many event streams open.', 503);
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    const send = (e: EngineEvent) => {
      // A client that stopped reading is dropped rather than buffered without limit.
      if (res.writableLength > 8 * 1024 * 1024) return void res.destroy();
      res.write(`data: ${JSON.stringify(e)}\n\n`);
    };
    send({ type: 'status', status: s.engine.status() });
    const unsubscribe = s.subscribe(send);
    const beat = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS);
    sseClients.add(res);
    const end = () => {
      clearInterval(beat);
      unsubscribe();
      sseClients.delete(res);
    };
    req.on('close', end);
    res.on('close', end);
  }

  async function exportCsv(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    let raw: unknown = {};
    if (req.method === 'POST') raw = await readJson(req, 64 * 1024);
    else if (req.method === 'GET') {
      const a = url.searchParams.get('args');
      try {
        raw = a ? JSON.parse(a) : {};
      } catch {
        return sendError(res, ErrorCodes.invalidArgs, 'args is not valid JSON.');
      }
    } else return sendError(res, ErrorCodes.invalidArgs, 'Use GET or POST.', 405);
    const args = parseArgs('export.csv', raw);
    if (!args.ok) return sendError(res, args.error.code, args.error.message);
    // Anything wrong with the filter must be answered before the 200 and the headers go out.
    buildWhere(args.value.filter);
    res.writeHead(200, {
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename="${suggestedCsvName()}"`,
      'Cache-Control': 'no-store',
    });
    await writeCsv(s.store, res, args.value);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      const e = toEngineError(err, `${req.method} ${req.url?.split('?')[0]}`);
      if (e.code === ErrorCodes.internal) logger.error(e.message);
      // Close rather than read the rest of an oversized upload.
      if (e.code === ErrorCodes.tooLarge && !res.headersSent) res.setHeader('Connection', 'close');
      if (!res.headersSent) sendError(res, e.code, e.message);
      else res.destroy();
    });
  });
  server.headersTimeout = 20_000;
  server.requestTimeout = 120_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(toEngineError(err, `Listening on ${host}:${port}`)));
    server.listen(port, host, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  const base = `http://${shownHost}:${port}`;
  return {
    url: base,
    openUrl: `${base}/?token=${encodeURIComponent(token)}`,
    token,
    host,
    port,
    async close() {
      for (const c of sseClients) c.end();
      sseClients.clear();
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
    },
  };
}
