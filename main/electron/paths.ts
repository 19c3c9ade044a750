/** Where the desktop app keeps its data and finds its model, from Electron's paths (injected). */
import path from 'node:path';

export interface AppPaths {
  /** Database, image library and backups. */
  dataDir: string;
  /** The shipped model's parent folder (`resources/`): extraResources when packaged, the repo otherwise. */
  resourcesDir: string;
  rendererDir: string;
  preloadFile: string;
  /**
   * The classifier module the model worker imports by path: the bundled copy beside main.js, or
   * undefined when running from source (the engine's default, model/classifier.ts).
   */
  classifierModule: string | undefined;
  /** The same for the adaptation module (model/adapt/adapt.ts). */
  adaptModule: string | undefined;
}

export function appPaths(opts: {
  userData: string;
  isPackaged: boolean;
  resourcesPath: string;
  /** Folder holding the bundled main (dist-electron/). */
  bundleDir: string;
  /** False when main runs from its TypeScript source (tests). */
  bundled: boolean;
}): AppPaths {
  const appRoot = path.resolve(opts.bundleDir, '..');
  return {
    dataDir: path.join(opts.userData, 'data'),
    resourcesDir: opts.isPackaged ? opts.resourcesPath : path.join(appRoot, 'resources'),
    rendererDir: path.join(appRoot, 'dist', 'renderer'),
    preloadFile: path.join(opts.bundleDir, 'preload.cjs'),
    classifierModule: opts.bundled ? path.join(opts.bundleDir, 'classifier.js') : undefined,
    adaptModule: opts.bundled ? path.join(opts.bundleDir, 'adapt.js') : undefined,
  };
}
