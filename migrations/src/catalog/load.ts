/**
 * Loading and linting a catalog folder: every `*.yaml` / `*.yml` file is one migration named
 * `<name>@<version>.yaml`; a MongoDB transform module it names sits next to it. `lintCatalog` returns every problem (file, field path, reason);
 * `loadCatalog` returns the migrations or throws a CatalogError carrying those problems.
 * Every file is read once, from inside the folder only (`folder.ts`): what the checksum covers is
 * exactly what runs, the transform modules' text included (`transformSources`).
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { migrationChecksum } from './checksum.ts';
import { readInsideFolder, realCatalogFolder, refusalWords } from './folder.ts';
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
/**
 * The text of a MongoDB migration's transform modules as read (and checksummed) at load: the modules
 * are imported from this text, never from the folder again, so an edit after load cannot run unplanned.
 */
export interface TransformSources {
  backfill?: string;
  down?: string;
}

/** A loaded MongoDB migration (`transformSources` is absent for one built by hand, without modules). */
export type MongoMigration = MongoMigrationFile & MigrationIdentity & { transformSources?: TransformSources };
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

/**
 * The migration `ref` as the catalog folder holds it now (read again, not from a loaded catalog), or the
 * problems of its file; undefined when the folder has no file for it.
 */
export function readCatalogEntry(dir: string, ref: string): Migration | { problems: CatalogProblem[] } | undefined {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    return { problems: [{ file: dir, path: '', message: `cannot read the catalog folder: ${(error as Error).message}` }] };
  }
  const name = [`${ref}.yaml`, `${ref}.yml`].find((candidate) => names.includes(candidate));
  return name === undefined ? undefined : readMigrationFile(join(dir, name), dir);
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
    const result = readMigrationFile(join(dir, name), dir);
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

/**
 * Parses and validates one migration file of the catalog folder `catalogDir` (by default the file's
 * own folder); the file and its transform modules must resolve inside that folder.
 */
export function readMigrationFile(file: string, catalogDir: string = dirname(file)): Migration | { problems: CatalogProblem[] } {
  const fail = (issues: FieldIssue[]) => ({ problems: issues.map((issue) => ({ file, ...issue })) });
  const folder = realCatalogFolder(catalogDir);
  if (!('root' in folder)) return fail([{ path: '', message: `cannot read the catalog folder ${catalogDir}: ${folder.unreadable}` }]);
  const read = readInsideFolder(folder.root, file);
  if (!('text' in read)) return fail([{ path: '', message: 'outside' in read ? refusalWords(folder.root, file, read) : `cannot read: ${read.unreadable}` }]);
  const text = read.text;
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
  const readModule = (name: string, field: string) => readTransformSource(folder.root, join(catalogDir, name), field, ruleIssues);
  const transformSource = migration.store === 'mongodb' && migration.backfill.transform !== undefined
    ? readModule(migration.backfill.transform, 'backfill.transform')
    : undefined;
  const downTransformSource = migration.store === 'mongodb' && migration.down.transform !== undefined
    ? readModule(migration.down.transform, 'down.transform')
    : undefined;
  if (ruleIssues.length > 0) return fail(ruleIssues);
  // A transform module is part of the migration: editing it changes the checksum like editing the YAML.
  const checksum = migrationChecksum(transformSource === undefined && downTransformSource === undefined
    ? raw : { migration: raw, transformSource, ...(downTransformSource === undefined ? {} : { downTransformSource }) });
  if (migration.store === 'postgres') return { ...migration, ref, file, checksum };
  const transformSources: TransformSources = {
    ...(transformSource === undefined ? {} : { backfill: transformSource }),
    ...(downTransformSource === undefined ? {} : { down: downTransformSource }),
  };
  return { ...migration, ref, file, checksum, transformSources };
}

/** The text of a transform module (inside the catalog folder only), or an issue on `field` when it cannot be read. */
function readTransformSource(root: string, path: string, field: string, issues: FieldIssue[]): string | undefined {
  const read = readInsideFolder(root, path);
  if ('text' in read) return read.text;
  issues.push({ path: field, message: `cannot read the module ${refusalWords(root, path, read)}` });
  return undefined;
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
