import { parseArgs, type ParseArgsConfig } from 'node:util';
import { EngineError } from '../util/errors.ts';

/** parseArgs that prints a clear message instead of a stack trace for unknown or malformed options. */
export function parseCli<T extends ParseArgsConfig>(argv: string[], config: T, usage: string) {
  try {
    return parseArgs({ ...config, args: argv, strict: true });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${usage}`);
  }
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Prints an expected failure as one clear line (exit 1), usage problems with the usage text (exit 2). */
export function reportFailure(err: unknown): number {
  if (err instanceof UsageError) {
    console.error(err.message);
    return 2;
  }
  if (err instanceof EngineError) {
    console.error(`error [${err.code}]: ${err.message}`);
    return 1;
  }
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  return 1;
}

/** Resolves on the first SIGINT/SIGTERM. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}
