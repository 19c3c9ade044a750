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

/** The token from `Authorization: Bearer <token>`, or `?token=` (for <img>, EventSource and downloads). */
export function presentedToken(req: IncomingMessage, url: URL): string | null {
  const auth = req.headers.authorization;
  if (auth && /^Bearer\s+/i.test(auth)) return auth.replace(/^Bearer\s+/i, '').trim();
  return url.searchParams.get(TOKEN_QUERY);
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
