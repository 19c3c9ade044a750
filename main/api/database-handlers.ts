import path from 'node:path';
import type { DatabaseStatus, Handlers } from '../../common/contract.ts';
import { ErrorCodes } from '../../common/contract.ts';
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
import { EngineError } from '../util/errors.ts';

type DatabaseHandlers = Pick<
  Handlers,
  'database.status' | 'database.test' | 'database.use' | 'dialog.chooseLibraryDir'
>;
type Needs = Pick<
  Services,
  'dataDir' | 'dbPath' | 'dbSource' | 'passwordKeeper' | 'library' | 'librarySource' | 'dialogs'
>;

function status(s: Needs): DatabaseStatus {
  const saved = readDbConfig(s.dataDir);
  return {
    current: describeDatabase(s.dbPath),
    source: s.dbSource,
    next: describeDatabase(saved ? saved.url : defaultSqliteFile(s.dataDir)),
    passwordKept: s.passwordKeeper.kind,
    passwordFile: s.passwordKeeper.file,
    library: {
      current: { dir: s.library.root, shared: s.library.shared },
      source: s.librarySource,
      next: saved?.library
        ? { dir: saved.library, shared: true }
        : { dir: path.join(s.dataDir, 'library'), shared: false },
    },
  };
}

/** Typed in serve mode: the contract took it only given in full; resolved as this machine spells paths. */
const libraryArg = (dir: string | undefined) => (dir === undefined ? undefined : path.resolve(dir));

/**
 * Settings → Clinic database. The choice only takes effect at the next start: switching histories under a
 * running engine would strand its queue and the screen's records. No answer ever carries the password.
 */
export function createDatabaseHandlers(s: Needs): DatabaseHandlers {
  return {
    'database.status': async () => status(s),
    'database.test': async (a) => testConnection(a.url, a.password, libraryArg(a.library)),
    'database.use': async (a) => {
      if (a.kind === 'sqlite') {
        removeDbConfig(s.dataDir);
        s.passwordKeeper.forget();
        return status(s);
      }
      checkUrlHasNoPassword(a.url);
      const library = libraryArg(a.library);
      // Saved only once it works: a choice that cannot connect, or a folder that is not the clinic's
      // library, would stop the next start.
      await testConnection(a.url, a.password, library);
      const password = s.passwordKeeper.save(a.password);
      if (password.kept !== 'file') s.passwordKeeper.forget();
      writeDbConfig(s.dataDir, { url: a.url, password, ...(library ? { library } : {}) });
      return status(s);
    },
    'dialog.chooseLibraryDir': async () => {
      if (!s.dialogs?.chooseFolder)
        throw new EngineError(ErrorCodes.unsupported, 'Choosing a folder needs the desktop app.');
      return { path: await s.dialogs.chooseFolder() };
    },
  };
}
