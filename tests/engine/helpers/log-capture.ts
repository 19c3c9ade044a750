import type { Logger } from '../../../main/util/logger.ts';

/** A logger that keeps its lines, and a wait that shows the last of them when it gives up. */
export function captureLog(): {
  lines: string[];
  logger: Logger;
  until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs?: number): Promise<void>;
} {
  const lines: string[] = [];
  const keep = (m: string) => void lines.push(m);
  return {
    lines,
    logger: { info: keep, warn: keep, error: keep },
    async until(what, ok, timeoutMs = 30_000) {
      const end = Date.now() + timeoutMs;
      while (!(await ok())) {
        if (Date.now() > end)
          throw new Error(`${what}: not within ${timeoutMs} ms\n${lines.slice(-20).join('\n')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}
