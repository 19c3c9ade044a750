import { describe, expect, it } from 'vitest';
import {
  APP_ENTRY_URL,
  contentSecurityPolicy,
  guardSession,
  guardWebContents,
  hardenedWebPreferences,
  isAppUrl,
  isTrustedSender,
} from '../../main/electron/security.ts';
import { FakeWebContents, fakeEvent, recordingLog } from './fakes.ts';

describe('window hardening', () => {
  it('turns on every web preference of the security checklist', () => {
    const prefs = hardenedWebPreferences('/app/dist-electron/preload.cjs');
    expect(prefs).toMatchObject({
      preload: '/app/dist-electron/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
  });

  it('has a CSP that allows only our own scripts and images from our schemes', () => {
    const csp = contentSecurityPolicy();
    const directives = Object.fromEntries(
      csp.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1)]),
    );
    expect(directives['default-src']).toEqual(["'none'"]);
    expect(directives['script-src']).toEqual(["'self'"]);
    expect(directives['img-src']).toEqual(["'self'", 'data:', 'blob:', 'eardrum-file:']);
    expect(directives['frame-ancestors']).toEqual(["'none'"]);
    expect(directives['object-src']).toEqual(["'none'"]);
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
  });

  it('knows the app origin and nothing else', () => {
    expect(isAppUrl(APP_ENTRY_URL)).toBe(true);
    expect(isAppUrl('eardrum://app/assets/index.js')).toBe(true);
    expect(isAppUrl('eardrum://evil/index.html')).toBe(false);
    expect(isAppUrl('https://app/index.html')).toBe(false);
    expect(isAppUrl('file:///app/index.html')).toBe(false);
    expect(isAppUrl('not a url')).toBe(false);
  });

  it('trusts IPC only from the top frame of our page', () => {
    expect(isTrustedSender({ url: 'eardrum://app/index.html#/board', parent: null })).toBe(true);
    expect(isTrustedSender({ url: 'eardrum://app/index.html', parent: {} })).toBe(false);
    expect(isTrustedSender({ url: 'https://example.com/', parent: null })).toBe(false);
    expect(isTrustedSender(null)).toBe(false);
    expect(isTrustedSender(undefined)).toBe(false);
  });

  it('blocks navigation away, redirects, webviews and new windows', () => {
    const contents = new FakeWebContents();
    const log = recordingLog();
    guardWebContents(contents as never, log);
    const inside = fakeEvent();
    contents.emit('will-navigate', inside, 'eardrum://app/index.html#/settings');
    expect(inside.defaultPrevented).toBe(false);
    const outside = fakeEvent();
    contents.emit('will-navigate', outside, 'https://phish.example/login');
    expect(outside.defaultPrevented).toBe(true);
    const redirect = fakeEvent();
    contents.emit('will-redirect', redirect, 'http://127.0.0.1:9/');
    expect(redirect.defaultPrevented).toBe(true);
    const webview = fakeEvent();
    contents.emit('will-attach-webview', webview);
    expect(webview.defaultPrevented).toBe(true);
    expect(contents.openHandler?.({ url: 'https://example.com' })).toEqual({ action: 'deny' });
    expect(contents.openHandler?.({ url: 'eardrum://app/index.html' })).toEqual({ action: 'deny' });
    expect(log.lines.filter((l) => l.startsWith('warn'))).toHaveLength(5);
  });

  it('adds the CSP to every response and refuses every permission', () => {
    let headersHandler: ((d: unknown, cb: (r: unknown) => void) => void) | null = null;
    let permissionHandler: ((wc: unknown, p: string, cb: (ok: boolean) => void) => void) | null = null;
    let checkHandler: (() => boolean) | null = null;
    const session = {
      webRequest: { onHeadersReceived: (h: typeof headersHandler) => (headersHandler = h) },
      setPermissionRequestHandler: (h: typeof permissionHandler) => (permissionHandler = h),
      setPermissionCheckHandler: (h: typeof checkHandler) => (checkHandler = h),
    };
    guardSession(session as never, recordingLog());
    let response: { responseHeaders: Record<string, string[]> } | null = null;
    headersHandler!({ responseHeaders: { 'Content-Type': ['text/html'] } }, (r) => (response = r as never));
    expect(response!.responseHeaders['Content-Type']).toEqual(['text/html']);
    expect(response!.responseHeaders['Content-Security-Policy']).toEqual([contentSecurityPolicy()]);
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal']) {
      let granted: boolean | null = null;
      permissionHandler!({}, permission, (ok) => (granted = ok));
      expect(granted).toBe(false);
    }
    expect(checkHandler!()).toBe(false);
  });
});
