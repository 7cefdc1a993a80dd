// The two name checks every tar entry goes through, before node-tar sees it: where a name
// lands, and where a symlink points. Lexical only, judged as the archive gives them.
import { posix } from 'node:path';

/**
 * `name` normalised inside the archive root ('' for the root), or null when it would escape:
 * `..` above the root, an absolute name, a drive letter, a backslash (a separator to node-tar's
 * own checks and on Windows).
 */
export function insideRoot(name: string): string | null {
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name) || name.includes('\\')) return null;
  const normal = posix.normalize(name);
  if (normal === '..' || normal.startsWith('../')) return null;
  return normal === '.' || normal === './' ? '' : normal.replace(/\/$/, '');
}

/**
 * True when a symlink at `name` pointing at `target` stays inside the root. `x/..` is `.`
 * only while `x` is a real directory; when `x` is itself a link it can climb anywhere, so
 * `..` may only lead the target (where it climbs the link's own directories).
 */
export function linkStaysInside(name: string, target: string): boolean {
  if (target === '' || target.startsWith('/') || target.includes('\\')) return false;
  const parts = target.split('/').filter((p) => p !== '' && p !== '.');
  const named = parts.findIndex((p) => p !== '..');
  if (named !== -1 && parts.indexOf('..', named) !== -1) return false;
  return insideRoot(posix.join(posix.dirname(name), target)) !== null;
}
