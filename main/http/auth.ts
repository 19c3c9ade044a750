import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { TOKEN_QUERY } from '../../common/contract.ts';

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

/** Constant-time comparison of secrets of any length (both sides hashed first). */
export function secretEquals(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/**
 * The session cookie's name. Cookies ignore ports, so each bridge names its own: two `serve` instances on
 * one machine do not overwrite each other's session.
 */
export function sessionCookieName(port: number): string {
  return `eardrum_session_${port}`;
}

/** `Set-Cookie` for the session: HttpOnly (no script reads it), SameSite=Strict, for this server only. */
export function sessionCookie(port: number, token: string): string {
  return `${sessionCookieName(port)}=${token}; Path=/; HttpOnly; SameSite=Strict`;
}

/** The token from `Authorization: Bearer <token>` (scripts), else from the session cookie (the browser). */
export function presentedTokens(req: IncomingMessage, port: number): string[] {
  const out: string[] = [];
  const auth = req.headers.authorization;
  if (auth && /^Bearer\s+/i.test(auth)) out.push(auth.replace(/^Bearer\s+/i, '').trim());
  const name = sessionCookieName(port);
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) out.push(part.slice(eq + 1).trim());
  }
  return out;
}

/** The page URL without its `?token=`, for the redirect that takes the token out of the address bar. */
export function withoutTokenQuery(url: URL): string {
  const clean = new URL(url.href);
  clean.searchParams.delete(TOKEN_QUERY);
  return `${clean.pathname}${clean.search}`;
}

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** Failed password attempts per client address within a minute; beyond the limit, logins are refused. */
export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();
  constructor(
    private readonly limit = 5,
    private readonly windowMs = 60_000,
  ) {}

  blocked(addr: string, now = Date.now()): boolean {
    const recent = (this.failures.get(addr) ?? []).filter((t) => now - t < this.windowMs);
    this.failures.set(addr, recent);
    return recent.length >= this.limit;
  }

  fail(addr: string, now = Date.now()): void {
    const list = this.failures.get(addr) ?? [];
    list.push(now);
    this.failures.set(addr, list);
  }
}
