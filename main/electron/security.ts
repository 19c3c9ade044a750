/**
 * Window and session hardening for the workstation (Electron's security checklist). Everything here
 * takes the Electron objects as parameters so it can be exercised under plain Node with fakes.
 */
import type { Session, WebContents, WebPreferences } from 'electron';
import { FILE_PROTOCOL } from '../../common/contract.ts';

/** The renderer is served from a privileged custom scheme, so its origin is unique and checkable. */
export const APP_SCHEME = 'eardrum';
export const APP_HOST = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/**
 * Strict CSP: only our own bundle runs, images come from our origin, the image protocol, or
 * blob:/data: URLs the renderer made itself, and nothing can be framed, posted or embedded.
 */
export function contentSecurityPolicy(): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' data: blob: ${FILE_PROTOCOL}:`,
    "font-src 'self'",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
}

export function hardenedWebPreferences(preloadPath: string): WebPreferences {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    spellcheck: false,
    navigateOnDragDrop: false,
  };
}

export function isAppUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST;
  } catch {
    return false;
  }
}

/** The minimal view of an IPC sender frame that the trust check needs. */
export interface SenderFrameLike {
  url: string;
  parent: unknown | null;
}

/**
 * An IPC call is trusted only from the top frame of our own page: a subframe, a navigated-away
 * page or a destroyed frame (null) is refused.
 */
export function isTrustedSender(frame: SenderFrameLike | null | undefined): boolean {
  if (!frame) return false;
  if (frame.parent !== null) return false;
  return isAppUrl(frame.url);
}

type GuardedContents = Pick<WebContents, 'on' | 'setWindowOpenHandler'>;

/** Blocks navigation away from the app, new windows, and <webview> attachment. */
export function guardWebContents(contents: GuardedContents, log: Logger): void {
  contents.on('will-navigate', (event, url) => {
    if (isAppUrl(url)) return;
    event.preventDefault();
    log.warn(`blocked navigation to ${url}`);
  });
  contents.on('will-redirect', (event, url) => {
    if (isAppUrl(url)) return;
    event.preventDefault();
    log.warn(`blocked redirect to ${url}`);
  });
  contents.on('will-attach-webview', (event) => {
    event.preventDefault();
    log.warn('blocked a <webview>');
  });
  contents.setWindowOpenHandler((details) => {
    log.warn(`blocked a new window for ${details.url}`);
    return { action: 'deny' };
  });
}

type GuardedSession = Pick<Session, 'setPermissionRequestHandler' | 'setPermissionCheckHandler'> & {
  webRequest: Pick<Session['webRequest'], 'onHeadersReceived'>;
};

/** Adds the CSP to every response and refuses every permission (camera, notifications, …). */
export function guardSession(session: GuardedSession, log: Logger): void {
  const csp = contentSecurityPolicy();
  session.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: {
        ...details.responseHeaders,
        'Content-Security-Policy': [csp],
        'X-Content-Type-Options': ['nosniff'],
      },
    });
  });
  session.setPermissionRequestHandler((_contents, permission, callback) => {
    log.warn(`refused permission ${permission}`);
    callback(false);
  });
  session.setPermissionCheckHandler(() => false);
}
