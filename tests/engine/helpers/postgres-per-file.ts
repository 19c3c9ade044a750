import { afterAll, beforeAll, describe } from 'vitest';
import { POSTGRES_SKIP_REASON, postgresMissing, startPostgres, type TestPostgres } from './postgres.ts';

/**
 * One real PostgreSQL for a test file: started before its tests with the databases named, stopped after
 * them. The server it returns stands for the one started; using it where PostgreSQL is missing (the
 * file's PostgreSQL tests are skipped then) throws.
 */
export function postgresPerFile(...databases: string[]): TestPostgres {
  let started: TestPostgres | null = null;
  beforeAll(async () => {
    if (postgresMissing) return;
    started = await startPostgres();
    for (const name of databases) started.createDatabase(name);
  }, 60_000);
  afterAll(async () => {
    await started?.stop();
  });
  return new Proxy({} as TestPostgres, {
    get(_, key: keyof TestPostgres) {
      if (!started) throw new Error('PostgreSQL was not started for this file');
      const value = started[key];
      return typeof value === 'function' ? value.bind(started) : value;
    },
  });
}

/** A describe run only where PostgreSQL's binaries are; its title says why when it is skipped. */
export function describePostgres(title: string, fn: () => void): void {
  describe.skipIf(postgresMissing)(
    `${title}${postgresMissing ? ` (skipped: ${POSTGRES_SKIP_REASON})` : ''}`,
    fn,
  );
}
