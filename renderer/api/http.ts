/**
 * HTTP transport for `eardrum serve`: `POST /api/<channel>` with JSON args and a Bearer token,
 * Server-Sent Events for live results, and token-carrying URLs where headers cannot be set.
 */
import {
  HTTP_API_PREFIX,
  TOKEN_QUERY,
  engineEventSchema,
  eventsUrl,
  exportCsvUrl,
  fileUrl,
  type ArgsOf,
  type ChannelName,
  type EngineEvent,
  type FileKind,
  type Result,
  type ResultOf,
} from '../../common/contract.ts';
import type { ApiClient, ExportOutcome } from './client.ts';

export interface HttpTransportOptions {
  /** Origin of the server, e.g. `http://127.0.0.1:8400` (defaults to the page's origin). */
  base: string;
  token: string;
  fetch?: typeof fetch;
  EventSource?: typeof EventSource;
  /** Starts a browser download of a URL (a hidden link click by default). */
  download?: (url: string) => void;
}

/**
 * The token in the page URL, if any. `eardrum serve` trades the printed URL's token for a session cookie and
 * redirects to the page without it, so this is normally empty and the cookie does the work.
 */
export function tokenFromLocation(location: { search: string; hash: string }): string {
  const fromSearch = new URLSearchParams(location.search).get(TOKEN_QUERY);
  if (fromSearch) return fromSearch;
  const hashQuery = location.hash.split('?')[1];
  return hashQuery ? (new URLSearchParams(hashQuery).get(TOKEN_QUERY) ?? '') : '';
}

function linkDownload(url: string): void {
  const a = document.createElement('a');
  a.href = url;
  a.download = '';
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
}

export function createHttpClient(options: HttpTransportOptions): ApiClient {
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const base = options.base.replace(/\/+$/, '');
  const connectionListeners = new Set<(connected: boolean) => void>();

  async function call<C extends ChannelName>(channel: C, args: ArgsOf<C>): Promise<Result<ResultOf<C>>> {
    let response: Response;
    try {
      response = await doFetch(`${base}${HTTP_API_PREFIX}${channel}`, {
        method: 'POST',
        // The page authenticates with the session cookie `serve` set; a token is sent only when one was given.
        headers: {
          'Content-Type': 'application/json',
          ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}),
        },
        body: JSON.stringify(args ?? {}),
      });
    } catch (error) {
      return { ok: false, error: { code: 'network', message: (error as Error).message } };
    }
    try {
      const body = (await response.json()) as Result<ResultOf<C>>;
      if (body && typeof body === 'object' && 'ok' in body) return body;
    } catch {
      // fall through: a proxy or a crash answered with something that is not our envelope
    }
    return {
      ok: false,
      error: {
        code: response.status === 401 ? 'unauthorized' : 'internal',
        message: `HTTP ${response.status}`,
      },
    };
  }

  function onEvent(listener: (event: EngineEvent) => void): () => void {
    const Source = options.EventSource ?? globalThis.EventSource;
    if (!Source) return () => undefined;
    const source = new Source(eventsUrl({ base, token: options.token }));
    source.onopen = () => connectionListeners.forEach((l) => l(true));
    source.onerror = () => connectionListeners.forEach((l) => l(false));
    source.onmessage = (message: MessageEvent<string>) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(message.data);
      } catch {
        return;
      }
      const event = engineEventSchema.safeParse(parsed);
      if (event.success) listener(event.data);
    };
    return () => source.close();
  }

  async function exportCsv(args: ArgsOf<'export.csv'>): Promise<Result<ExportOutcome>> {
    (options.download ?? linkDownload)(exportCsvUrl(args, { base, token: options.token }));
    return { ok: true, value: { path: null, rows: null, cancelled: false } };
  }

  return {
    transport: 'http',
    call,
    onEvent,
    onConnection(listener) {
      connectionListeners.add(listener);
      return () => connectionListeners.delete(listener);
    },
    fileUrl: (kind: FileKind, id: number) => fileUrl(kind, id, { base, token: options.token }),
    exportCsv,
  };
}
