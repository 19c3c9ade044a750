/** The engine logs through this so the CLI can print lines and tests can stay quiet. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

export function consoleLogger(prefix = ''): Logger {
  const stamp = () => new Date().toISOString();
  return {
    info: (m) => console.log(`${stamp()} ${prefix}${m}`),
    warn: (m) => console.warn(`${stamp()} ${prefix}WARN ${m}`),
    error: (m) => console.error(`${stamp()} ${prefix}ERROR ${m}`),
  };
}
