/** Where the desktop app keeps its data and finds its model, from Electron's paths (injected). */
import path from 'node:path';

export interface AppPaths {
  /** Database, image library and backups. */
  dataDir: string;
  /** The shipped model's parent folder (`resources/`): extraResources when packaged, the repo otherwise. */
  resourcesDir: string;
  rendererDir: string;
  preloadFile: string;
}

export function appPaths(opts: {
  userData: string;
  isPackaged: boolean;
  resourcesPath: string;
  /** Folder holding the bundled main (dist-electron/). */
  bundleDir: string;
}): AppPaths {
  const appRoot = path.resolve(opts.bundleDir, '..');
  return {
    dataDir: path.join(opts.userData, 'data'),
    resourcesDir: opts.isPackaged ? opts.resourcesPath : path.join(appRoot, 'resources'),
    rendererDir: path.join(appRoot, 'dist', 'renderer'),
    preloadFile: path.join(opts.bundleDir, 'preload.cjs'),
  };
}
