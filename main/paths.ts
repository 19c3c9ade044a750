import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Where the app keeps its database, image library and backups, by the OS's convention. */
export function defaultDataDir(): string {
  if (process.env.EARDRUM_DATA_DIR) return path.resolve(process.env.EARDRUM_DATA_DIR);
  const home = os.homedir();
  if (process.platform === 'win32') {
    return path.join(process.env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'Eardrum Workstation');
  }
  if (process.platform === 'darwin')
    return path.join(home, 'Library', 'Application Support', 'Eardrum Workstation');
  return path.join(process.env.XDG_DATA_HOME ?? path.join(home, '.local', 'share'), 'eardrum-workstation');
}

/** The folder watched when none is configured: point the otoscope software's export here. */
export function defaultWatchDir(): string {
  if (process.env.EARDRUM_WATCH_DIR) return path.resolve(process.env.EARDRUM_WATCH_DIR);
  return path.join(os.homedir(), 'EardrumWorkstation', 'inbox');
}

export function ensureDir(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return dir;
}
