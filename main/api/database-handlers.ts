import type { DatabaseStatus, Handlers } from '../../common/contract.ts';
import type { Services } from '../services.ts';
import { testConnection } from '../store/db-check.ts';
import {
  checkUrlHasNoPassword,
  defaultSqliteFile,
  describeDatabase,
  readDbConfig,
  removeDbConfig,
  writeDbConfig,
} from '../store/db-config.ts';

type DatabaseHandlers = Pick<Handlers, 'database.status' | 'database.test' | 'database.use'>;
type Needs = Pick<Services, 'dataDir' | 'dbPath' | 'dbSource' | 'passwordKeeper'>;

function status(s: Needs): DatabaseStatus {
  const saved = readDbConfig(s.dataDir);
  return {
    current: describeDatabase(s.dbPath),
    source: s.dbSource,
    next: describeDatabase(saved ? saved.url : defaultSqliteFile(s.dataDir)),
    passwordKept: s.passwordKeeper.kind,
    passwordFile: s.passwordKeeper.file,
  };
}

/**
 * Settings → Clinic database. The choice only takes effect at the next start: switching histories under a
 * running engine would strand its queue and the screen's records. No answer ever carries the password.
 */
export function createDatabaseHandlers(s: Needs): DatabaseHandlers {
  return {
    'database.status': async () => status(s),
    'database.test': async (a) => testConnection(a.url, a.password),
    'database.use': async (a) => {
      if (a.kind === 'sqlite') {
        removeDbConfig(s.dataDir);
        s.passwordKeeper.forget();
        return status(s);
      }
      checkUrlHasNoPassword(a.url);
      // Saved only once it works: a choice that cannot connect would stop the next start.
      await testConnection(a.url, a.password);
      const password = s.passwordKeeper.save(a.password);
      if (password.kept !== 'file') s.passwordKeeper.forget();
      writeDbConfig(s.dataDir, { url: a.url, password });
      return status(s);
    },
  };
}
