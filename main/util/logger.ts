/** The engine logs through this so the CLI can print lines and tests can stay quiet. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * One log line per message, whatever it quotes: file names and error texts come from outside (a file called
 * `a\nfailed b.jpg: …` must not forge a second line), so control characters (C0, DEL, C1, the Unicode line
 * and paragraph separators) are written as escapes. Backslashes stay as they are: Windows paths stay readable.
 */
export function escapeControl(message: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return message.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    const named = NAMED[c];
    if (named) return named;
    const code = c.charCodeAt(0);
    return code > 0xff
      ? `\\u${code.toString(16).padStart(4, '0')}`
      : `\\x${code.toString(16).padStart(2, '0')}`;
  });
}

export function consoleLogger(prefix = ''): Logger {
  const stamp = () => new Date().toISOString();
  return {
    info: (m) => console.log(`${stamp()} ${prefix}${escapeControl(m)}`),
    warn: (m) => console.warn(`${stamp()} ${prefix}WARN ${escapeControl(m)}`),
    error: (m) => console.error(`${stamp()} ${prefix}ERROR ${escapeControl(m)}`),
  };
}
