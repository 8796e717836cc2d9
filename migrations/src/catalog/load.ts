/**
 * Loading and linting a catalog folder: every `*.yaml` / `*.yml` file is one migration named
 * `<name>@<version>.yaml`; a MongoDB transform module it names sits next to it. `lintCatalog` returns every problem (file, field path, reason);
 * `loadCatalog` returns the migrations or throws a CatalogError carrying those problems.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { migrationChecksum } from './checksum.ts';
import { mongoRuleIssues, postgresRuleIssues } from './rules.ts';
import type { FieldIssue } from './rules.ts';
import { MigrationFile } from './schema.ts';
import type { MongoMigrationFile, PostgresMigrationFile } from './schema.ts';

/** One problem of a catalog: which file, which field, why. */
export interface CatalogProblem {
  file: string;
  path: string;
  message: string;
}

/** Identity of a loaded migration: its `name@version` reference, source file and checksum. */
export interface MigrationIdentity {
  ref: string;
  file: string;
  checksum: string;
}

/** A loaded PostgreSQL migration. */
export type PostgresMigration = PostgresMigrationFile & MigrationIdentity;
/** A loaded MongoDB migration. */
export type MongoMigration = MongoMigrationFile & MigrationIdentity;
/** A loaded migration of either store. */
export type Migration = PostgresMigration | MongoMigration;

/** A loaded catalog: migrations by `name@version`. */
export interface Catalog {
  dir: string;
  migrations: ReadonlyMap<string, Migration>;
}

/** Thrown by `loadCatalog` when any file has a problem; `problems` lists all of them. */
export class CatalogError extends Error {
  readonly problems: CatalogProblem[];
  constructor(problems: CatalogProblem[]) {
    super(`invalid migration catalog:\n${problems.map(formatProblem).join('\n')}`);
    this.name = 'CatalogError';
    this.problems = problems;
  }
}

/** `file: path: message`, the line `upshift catalog lint` prints per problem. */
export function formatProblem(problem: CatalogProblem): string {
  return `${problem.file}: ${problem.path || '(file)'}: ${problem.message}`;
}

/** Loads every migration of `dir`; throws CatalogError listing every problem if any file is invalid. */
export function loadCatalog(dir: string): Catalog {
  const { migrations, problems } = readCatalog(dir);
  if (problems.length > 0) throw new CatalogError(problems);
  return { dir, migrations };
}

/** Every problem of the catalog in `dir` (empty when it is valid); never throws for bad content. */
export function lintCatalog(dir: string): CatalogProblem[] {
  return readCatalog(dir).problems;
}

/** The migration `ref` (`name@version`) of a catalog, or a CatalogError naming it. */
export function migrationByRef(catalog: Catalog, ref: string): Migration {
  const migration = catalog.migrations.get(ref);
  if (!migration) throw new CatalogError([{ file: catalog.dir, path: ref, message: 'no such migration in the catalog' }]);
  return migration;
}

function readCatalog(dir: string): { migrations: Map<string, Migration>; problems: CatalogProblem[] } {
  const migrations = new Map<string, Migration>();
  const problems: CatalogProblem[] = [];
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) return { migrations, problems: [{ file: dir, path: '', message: 'is not a directory' }] };
    names = readdirSync(dir).filter((name) => /\.ya?ml$/.test(name)).sort();
  } catch (error) {
    return { migrations, problems: [{ file: dir, path: '', message: `cannot read the catalog folder: ${(error as Error).message}` }] };
  }
  for (const name of names) {
    const result = readMigrationFile(join(dir, name));
    if ('problems' in result) {
      problems.push(...result.problems);
    } else if (migrations.has(result.ref)) {
      problems.push({ file: result.file, path: 'name', message: `${result.ref} is also defined in ${migrations.get(result.ref)?.file}` });
    } else {
      migrations.set(result.ref, result);
    }
  }
  return { migrations, problems };
}

/** Parses and validates one migration file. */
export function readMigrationFile(file: string): Migration | { problems: CatalogProblem[] } {
  const fail = (issues: FieldIssue[]) => ({ problems: issues.map((issue) => ({ file, ...issue })) });
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return fail([{ path: '', message: `cannot read: ${(error as Error).message}` }]);
  }
  const document = parseDocument(text, { uniqueKeys: true });
  if (document.errors.length > 0) return fail(document.errors.map((error) => ({ path: '', message: `YAML: ${error.message}` })));
  const raw: unknown = document.toJS();
  const parsed = MigrationFile.safeParse(raw);
  if (!parsed.success) return fail(parsed.error.issues.map(zodIssue));
  const migration = parsed.data;
  const ruleIssues = migration.store === 'postgres' ? postgresRuleIssues(migration) : mongoRuleIssues(migration);
  const ref = `${migration.name}@${migration.version}`;
  const expectedName = basename(file).replace(/\.ya?ml$/, '');
  if (expectedName !== ref) ruleIssues.push({ path: 'name', message: `the file must be named ${ref}.yaml (name@version)` });
  const transformSource = migration.store === 'mongodb' && migration.backfill.transform !== undefined
    ? readTransformSource(join(dirname(file), migration.backfill.transform), 'backfill.transform', ruleIssues)
    : undefined;
  const downTransformSource = migration.store === 'mongodb' && migration.down.transform !== undefined
    ? readTransformSource(join(dirname(file), migration.down.transform), 'down.transform', ruleIssues)
    : undefined;
  if (ruleIssues.length > 0) return fail(ruleIssues);
  // A transform module is part of the migration: editing it changes the checksum like editing the YAML.
  const checksum = migrationChecksum(transformSource === undefined && downTransformSource === undefined
    ? raw : { migration: raw, transformSource, ...(downTransformSource === undefined ? {} : { downTransformSource }) });
  return { ...migration, ref, file, checksum };
}

/** The text of a transform module, or an issue on `field` when it cannot be read. */
function readTransformSource(path: string, field: string, issues: FieldIssue[]): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    issues.push({ path: field, message: `cannot read the module ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` });
    return undefined;
  }
}

function zodIssue(issue: z.core.$ZodIssue): FieldIssue {
  return { path: formatPath(issue.path), message: issue.message };
}

/** `backfill.set.amount`, `invariants[0].sql`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((text, part) => {
    if (typeof part === 'number') return `${text}[${part}]`;
    return text === '' ? String(part) : `${text}.${String(part)}`;
  }, '');
}
