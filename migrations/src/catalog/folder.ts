/**
 * Reading the catalog folder's files, confined to it: a file is read only when its real path (every
 * symlink resolved) lies inside the folder's real path, so a symlink out of the folder is refused with
 * both paths instead of being followed. A Kubernetes ConfigMap volume still loads: its files are symlinks
 * into `..data/`, itself a symlink to a timestamped folder, all inside the mount.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { isAbsolute, relative, sep } from 'node:path';

/** A file's text, or why it was not read: unreadable (the error code), or resolving outside the folder (its real path). */
export type ConfinedRead = { text: string } | { unreadable: string } | { outside: string };

/** The real path of the catalog folder (symlinks resolved), or the reason it cannot be resolved. */
export function realCatalogFolder(dir: string): { root: string } | { unreadable: string } {
  try {
    return { root: realpathSync(dir) };
  } catch (error) {
    return { unreadable: errorWords(error) };
  }
}

/** Reads `path` as UTF-8 when its real path is inside `root` (a real folder path); else says why not. */
export function readInsideFolder(root: string, path: string): ConfinedRead {
  let real: string;
  try {
    real = realpathSync(path);
  } catch (error) {
    return { unreadable: errorWords(error) };
  }
  if (!isInside(root, real)) return { outside: real };
  try {
    return { text: readFileSync(real, 'utf8') };
  } catch (error) {
    return { unreadable: errorWords(error) };
  }
}

/** Why a file was not read, in words: `<path>: ENOENT`, or where it resolves to and that this is outside `root`. */
export function refusalWords(root: string, path: string, read: { unreadable: string } | { outside: string }): string {
  return 'outside' in read
    ? `${path} resolves to ${read.outside}, outside the catalog folder ${root}: catalog files must be inside it`
    : `${path}: ${read.unreadable}`;
}

/** Whether `real` is strictly below `root` (`..data/x.yaml` is inside; `../x.yaml` is not). */
function isInside(root: string, real: string): boolean {
  const path = relative(root, real);
  return path !== '' && path !== '..' && !path.startsWith(`..${sep}`) && !isAbsolute(path);
}

function errorWords(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
}
