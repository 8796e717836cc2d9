/**
 * `upshift catalog lint <dir> [--connect]`: prints every problem as `file: field: reason` and returns
 * the exit code (0 valid, 2 problems). Transform modules (`backfill.transform`, `down.transform`) are imported to check their export. With `--connect` each migration is also checked against its
 * real table/collection (URL from the environment variable it names) through read-only sessions; nothing is changed.
 */
import { openEngine } from '../open-engine.ts';
import { isMigrationError } from '../errors.ts';
import { loadTransform } from '../mongodb/transform.ts';
import { formatProblem, lintCatalog, loadCatalog } from './load.ts';
import type { CatalogProblem } from './load.ts';

/** Where the command writes, and the environment it reads connection variables from. */
export interface LintCommandIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  env: Readonly<Record<string, string | undefined>>;
}

/** Runs `upshift catalog lint`; `args` are what follows `lint`. Returns the process exit code. */
export async function runCatalogLintCommand(args: string[], io: LintCommandIo): Promise<number> {
  const dir = args.find((arg) => !arg.startsWith('--'));
  if (!dir) {
    io.stderr('usage: upshift catalog lint <dir> [--connect]');
    return 2;
  }
  const problems = lintCatalog(dir);
  if (problems.length === 0) problems.push(...(await transformModuleProblems(dir)));
  if (problems.length === 0 && args.includes('--connect')) problems.push(...(await preflightCatalog(dir, io.env)));
  for (const problem of problems) io.stderr(formatProblem(problem));
  if (problems.length > 0) return 2;
  io.stdout(`${dir}: ${loadCatalog(dir).migrations.size} migration(s), no problems`);
  return 0;
}

/** Imports every transform module of a (valid) catalog (`backfill.transform`, `down.transform`): each must load and export `transform(doc)`. */
export async function transformModuleProblems(dir: string): Promise<CatalogProblem[]> {
  const problems: CatalogProblem[] = [];
  for (const migration of loadCatalog(dir).migrations.values()) {
    if (migration.store !== 'mongodb') continue;
    for (const phase of ['backfill', 'down'] as const) {
      try {
        await loadTransform(migration, phase);
      } catch (error) {
        problems.push({ file: migration.file, path: `${phase}.transform`, message: (error as Error).message });
      }
    }
  }
  return problems;
}

/** Checks every migration of a (valid) catalog against its real store; returns the problems. */
export async function preflightCatalog(dir: string, env: Readonly<Record<string, string | undefined>>): Promise<CatalogProblem[]> {
  const problems: CatalogProblem[] = [];
  for (const migration of loadCatalog(dir).migrations.values()) {
    try {
      const engine = openEngine(migration, env, { poolSize: 1, readOnly: true });
      try {
        problems.push(...(await engine.preflight()).map((problem) => ({ file: migration.file, ...problem })));
      } finally {
        await engine.close();
      }
    } catch (error) {
      const path = isMigrationError(error, 'CONNECTION_MISSING') ? 'connection' : '';
      problems.push({ file: migration.file, path, message: (error as Error).message });
    }
  }
  return problems;
}
