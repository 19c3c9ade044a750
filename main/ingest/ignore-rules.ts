import path from 'node:path';

const TEMP_SUFFIXES = [
  '.tmp',
  '.temp',
  '.part',
  '.partial',
  '.crdownload',
  '.download',
  '.swp',
  '.lock',
  '.lnk',
  '~',
];
const SYSTEM_NAMES = new Set(['thumbs.db', 'desktop.ini', 'ehthumbs.db', '.ds_store']);

/**
 * Files the watcher never looks at: hidden files, writers' temporary names (a writer that saves to a temporary
 * name and renames when done is thus picked up only once complete) and operating-system clutter.
 */
export function isIgnoredName(file: string): boolean {
  const base = path.basename(file).toLowerCase();
  if (base.startsWith('.') || base.startsWith('~$') || base.startsWith('~')) return true;
  if (SYSTEM_NAMES.has(base)) return true;
  return TEMP_SUFFIXES.some((s) => base.endsWith(s));
}
