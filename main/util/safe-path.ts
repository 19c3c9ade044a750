import path from 'node:path';

/**
 * True when `candidate` (already resolved with realpath) is `root` or inside it. Uses path.relative, not
 * startsWith, so `/data/library-evil` is not taken as inside `/data/library`.
 */
export function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}
