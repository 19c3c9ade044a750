import { startupLibrary, type StartupLibrary } from '../store/db-config.ts';
import { SavedDatabaseError } from '../store/open-store.ts';
import { EngineError } from '../util/errors.ts';
import type { Logger } from '../util/logger.ts';
import { ErrorCodes } from '../../common/contract.ts';
import { ImageLibrary, type WriteFileFn } from './library.ts';

/**
 * The image library a start uses (`--library`, else the folder saved in Settings → Clinic database, else the
 * data folder's own; see db-config.ts `startupLibrary`), ready. A saved folder that cannot be used stops
 * the start as a saved database would (SavedDatabaseError: the desktop app offers to try again once the share
 * is mounted), never replaced by the private library, where other rooms would never see this one's photos.
 */
export async function openLibrary(o: {
  dataDir: string;
  workstation: string;
  logger: Logger;
  cliLibrary?: string | undefined;
  cliDb?: string | undefined;
  write?: WriteFileFn | undefined;
}): Promise<{ library: ImageLibrary; source: StartupLibrary['source'] }> {
  const chosen = startupLibrary(o);
  const library = new ImageLibrary(
    o.dataDir,
    o.write,
    chosen.dir ? { root: chosen.dir, workstation: o.workstation } : undefined,
  );
  try {
    const opened = await library.init();
    if (library.shared)
      o.logger.info(
        `image library ${library.root} (shared${chosen.source === 'saved' ? ', chosen in Settings; --library overrides it' : ''})`,
      );
    if (opened) o.logger.info(`image library: opened ${opened} files and folders to the library's group`);
    return { library, source: chosen.source };
  } catch (err) {
    if (chosen.source !== 'saved') throw err;
    throw new SavedDatabaseError(
      err instanceof EngineError ? err.code : ErrorCodes.internal,
      `${(err as Error).message} That folder was chosen in Settings → Clinic database. This workstation does ` +
        'not fall back to its own library, where the other rooms would not see its photos: mount the share, or ' +
        'start with --library DIR.',
      { cause: err },
    );
  }
}
