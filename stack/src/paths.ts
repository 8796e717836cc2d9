import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

/** Builds and downloads live outside the repo so every checkout and CI run reuses them. */
export const cacheRoot = process.env.UPSHIFT_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'upshift');

/**
 * One run directory holds every component's data dir, log file and pid file.
 * It sits under the system temp dir (not $HOME) because PostgreSQL runs as the postgres user,
 * which cannot enter root's home.
 */
export const runRoot = process.env.UPSHIFT_RUN_DIR ?? join(tmpdir(), 'upshift-stack');

/** The cache folder of one component at one version, e.g. ~/.cache/upshift/kafka-4.3.1. */
export function cacheDirFor(component: string, version: string): string {
  return join(cacheRoot, `${component}-${version}`);
}

/** The run folder of one component: data/, <name>.log, <name>.pid. */
export function runDirFor(component: string): string {
  return join(runRoot, component);
}
