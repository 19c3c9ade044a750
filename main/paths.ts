import { createHash } from 'node:crypto';
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

/**
 * This workstation's name among the rooms sharing one PostgreSQL (claims, notifications, its own folder in a
 * shared library's tmp/): the host name and a digest of the data folder, so two engines on one computer
 * differ and a restarted one is itself again. ASCII only, at most 63 characters (PostgreSQL's
 * application_name).
 */
export function workstationName(dataDir: string): string {
  const host =
    os
      .hostname()
      .replace(/[^A-Za-z0-9.-]/g, '_')
      .slice(0, 40) || 'host';
  const digest = createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 8);
  return `eardrum-${host}-${digest}`;
}
