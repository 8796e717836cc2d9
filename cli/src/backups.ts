/**
 * `upshift backups list [<migration>]` and `upshift backups drop <migration>`: the backups the migration
 * engines keep (PostgreSQL tables in schema upshift_backup, MongoDB collections upshift_backup__…) —
 * per store: name, rows, size, the run that made it and when that run started — and dropping them once
 * no run needs them (asks first; `--yes` does not). Migrations come from the catalog, store URLs from
 * the variables their `connection` names, runs from the control store.
 */
import { createInterface } from 'node:readline/promises';
import { fileURLToPath } from 'node:url';
import { stringify as yamlText } from 'yaml';
import type { Catalog, Migration } from '@upshift/migrations';
import { outputFormatOption, parseCommand, usageError } from './args.ts';
import type { BackupFound, BackupStore } from './backups/stores.ts';
import { dropVerdict, readRuns, runsHolding, type BackupRun } from './backups/runs.ts';
import { stderrColours, stdoutColours } from './colour.ts';
import { describeError } from './error-text.ts';
import { jsonForTerminal, line } from './escape.ts';
import { formatTime, table } from './status/format.ts';
import { createPool, hasControlStore, type TxClient } from '@upshift/runtime';

/** Usage of `upshift backups`. */
export const backupsUsage = `Usage: upshift backups list [<migration>] [-o json|yaml] [--catalog dir] [--database-url url]
       upshift backups drop <migration> [--yes] [--catalog dir] [--database-url url]

Subcommands:
  list   the backups of a migration (name@version, or a name: every version; none: the whole catalog),
         per store: name, rows, size, the run that made it, when that run started
  drop   drop a migration's backups after asking (--yes: without asking); refused while a run holds the
         migration or the run that made the backup has not ended (its rollback restores from it)
`;

const common = `  --catalog dir        the migration catalog (default: $UPSHIFT_CATALOG_DIR, else examples/catalog)
  --database-url url   the control store, for the runs (default: $DATABASE_URL, else the context file)
Store URLs come from the variables the migrations' \`connection\` names (e.g. $SHOP_DATABASE_URL).
`;

/** Usage of `upshift backups list`. */
export const backupsListUsage = `Usage: upshift backups list [<migration>] [-o json|yaml] [--catalog dir] [--database-url url]

  <migration>          name@version, or a name (every version); none: every migration of the catalog
  -o, --output         json or yaml instead of the table
${common}`;

/** Usage of `upshift backups drop`. */
export const backupsDropUsage = `Usage: upshift backups drop <migration> [--yes] [--catalog dir] [--database-url url]

  <migration>          name@version, or a name (every version)
  --yes, -y            drop without asking
${common}`;

const commonOptions = {
  catalog: { type: 'string' },
  'database-url': { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;
const listOptions = { ...commonOptions, output: { type: 'string', short: 'o' } } as const;
const dropOptions = { ...commonOptions, yes: { type: 'boolean', short: 'y', default: false } } as const;

const exampleCatalog = fileURLToPath(new URL('../../examples/catalog', import.meta.url));

/** The catalog's migrations `wanted` names (name@version, a name for every version, none for all). */
export function selectMigrations(catalog: Catalog, wanted: string | undefined): Migration[] {
  const all = [...catalog.migrations.values()].sort((a, b) => a.ref.localeCompare(b.ref));
  if (wanted === undefined) return all;
  return all.filter((m) => m.ref === wanted || m.name === wanted);
}

/** A backup with the run that made it (from the control store, when it knows the run). */
interface Listed extends BackupFound {
  readonly run: BackupRun | undefined;
}

function sizeText(bytes: number | undefined): string {
  if (bytes === undefined) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** The store adapters and the catalog loader, loaded when a backups command runs (the other commands start faster without them). */
async function backupStoreOf(migration: Migration, env: NodeJS.ProcessEnv): Promise<BackupStore> {
  return (await import('./backups/stores.ts')).backupStoreOf(migration, env);
}

/** Finds the backups of `migrations`; a store that cannot be asked is reported and skipped. */
async function findBackups(migrations: readonly Migration[]): Promise<{ found: BackupFound[]; problems: string[] }> {
  const found: BackupFound[] = [];
  const problems: string[] = [];
  for (const migration of migrations) {
    let store;
    try {
      store = await backupStoreOf(migration, process.env);
      const backup = await store.find();
      if (backup) found.push(backup);
    } catch (error) {
      problems.push(`${migration.ref}: ${describeError(error)}`);
    } finally {
      await store?.close().catch(() => undefined);
    }
  }
  return { found, problems };
}

/** Resolves the shared options: the catalog, the selected migrations, the control store (optional for list). */
async function loadSelection(command: string, usage: string, values: { catalog?: string }, wanted: string | undefined): Promise<Migration[] | number> {
  let catalog: Catalog;
  try {
    const { loadCatalog } = await import('@upshift/migrations');
    catalog = loadCatalog(values.catalog ?? process.env.UPSHIFT_CATALOG_DIR ?? exampleCatalog);
  } catch (error) {
    process.stderr.write(line(`upshift ${command}: the catalog cannot be loaded: ${describeError(error)}`));
    return 2;
  }
  const migrations = selectMigrations(catalog, wanted);
  if (migrations.length === 0) return usageError(command, usage, `no migration "${wanted}" in the catalog ${catalog.dir}`);
  return migrations;
}

/** Runs `work` with a connection to the control store (undefined: no URL, or no upshift schema there). */
async function withControlStore<T>(url: string | undefined, work: (db: TxClient | undefined) => Promise<T>): Promise<T> {
  if (!url) return work(undefined);
  const pool = createPool(url);
  try {
    const client = await pool.connect();
    try {
      return await work((await hasControlStore(client)) ? client : undefined);
    } finally {
      client.release();
    }
  } finally {
    await pool.end();
  }
}

async function runList(args: readonly string[]): Promise<number> {
  const parsed = parseCommand('backups list', backupsListUsage, args, listOptions);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length > 1) return usageError('backups list', backupsListUsage, 'expected at most one migration');
  const format = outputFormatOption(values.output, false);
  if (typeof format !== 'string' || format === 'wide') return usageError('backups list', backupsListUsage, '-o must be json or yaml');
  const migrations = await loadSelection('backups list', backupsListUsage, values, positionals[0]);
  if (typeof migrations === 'number') return migrations;
  const { found, problems } = await findBackups(migrations);
  const runs = await withControlStore(values['database-url'] ?? process.env.DATABASE_URL, async (db) =>
    (db ? readRuns(db, found.flatMap((b) => (b.runId ? [b.runId] : []))) : new Map<string, BackupRun>()));
  const listed: Listed[] = found.map((b) => ({ ...b, run: b.runId ? runs.get(b.runId) : undefined }));
  for (const problem of problems) process.stderr.write(line(`upshift backups list: ${problem}`));
  writeList(listed, format);
  return problems.length > 0 ? 1 : 0;
}

function writeList(listed: readonly Listed[], format: 'text' | 'json' | 'yaml'): void {
  if (format !== 'text') {
    const document = { backups: listed.map((b) => ({ migration: b.migration, store: b.store, name: b.name, rows: b.rows, bytes: b.bytes ?? null, runId: b.runId ?? null, runStatus: b.run?.status ?? null, created: b.run?.createdAt.toISOString() ?? null })) };
    const json = jsonForTerminal(document, 2);
    process.stdout.write(format === 'json' ? `${json}\n` : yamlText(JSON.parse(json)));
    return;
  }
  if (listed.length === 0) {
    process.stdout.write('no backups\n');
    return;
  }
  const colours = stdoutColours();
  process.stdout.write(table(['MIGRATION', 'STORE', 'NAME', 'ROWS', 'SIZE', 'RUN', 'RUN STATUS', 'CREATED (UTC)'], listed.map((b) => [
    b.migration, b.store, b.name, String(b.rows), sizeText(b.bytes), b.runId ?? '-', b.run?.status ?? '-', b.run ? formatTime(b.run.createdAt) : '-',
  ]), (column, cell) => (column === 'MIGRATION' ? colours.bold(cell) : cell)));
}

/** Asks on stdin; anything but y/yes (and end of input) is no. */
async function confirm(question: string): Promise<boolean> {
  const prompt = createInterface({ input: process.stdin, output: process.stderr, terminal: process.stdin.isTTY === true });
  const answer = new Promise<string>((resolve) => {
    prompt.once('close', () => resolve(''));
    prompt.question(question).then(resolve, () => resolve(''));
  });
  try {
    return /^y(es)?$/i.test((await answer).trim());
  } finally {
    prompt.close();
  }
}

async function runDrop(args: readonly string[]): Promise<number> {
  const parsed = parseCommand('backups drop', backupsDropUsage, args, dropOptions);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const [wanted] = positionals;
  if (positionals.length !== 1 || wanted === undefined) return usageError('backups drop', backupsDropUsage, 'expected exactly one migration');
  const url = values['database-url'] ?? process.env.DATABASE_URL;
  if (!url) return usageError('backups drop', backupsDropUsage, 'no control store to check which runs need the backups: pass --database-url or set DATABASE_URL');
  const migrations = await loadSelection('backups drop', backupsDropUsage, values, wanted);
  if (typeof migrations === 'number') return migrations;
  return withControlStore(url, async (db) => {
    if (!db) {
      process.stderr.write('upshift backups drop: the database has no upshift control store (schema upshift): cannot tell which runs need the backups\n');
      return 1;
    }
    let code = 0;
    for (const migration of migrations) code = Math.max(code, await dropOne(db, migration, values.yes));
    return code;
  });
}

async function dropOne(db: TxClient, migration: Migration, yes: boolean): Promise<number> {
  const store = await backupStoreOf(migration, process.env);
  const err = stderrColours();
  try {
    const backup = await store.find();
    if (!backup) {
      process.stdout.write(line(`${migration.ref}: no backup`));
      return 0;
    }
    const owner = backup.runId ? (await readRuns(db, [backup.runId])).get(backup.runId) : undefined;
    const verdict = dropVerdict(await runsHolding(db, migration.name), owner);
    const what = `${backup.name} (${backup.store}, ${backup.rows} rows${backup.runId ? `, run ${backup.runId}` : ''})`;
    if (!verdict.allowed) {
      process.stderr.write(`${err.red('refused')}: ${line(`not dropping ${what}: ${verdict.reason ?? ''}`)}`);
      return 1;
    }
    if (verdict.warning) process.stderr.write(`${err.yellow('warning')}: ${line(verdict.warning)}`);
    if (!yes && !(await confirm(`drop ${what}? [y/N] `))) {
      process.stderr.write(line(`${migration.ref}: not dropped (answer y to drop, or pass --yes)`));
      return 1;
    }
    await store.drop();
    process.stdout.write(line(`${migration.ref}: dropped ${what}`));
    return 0;
  } finally {
    await store.close().catch(() => undefined);
  }
}

/** Dispatches `upshift backups <subcommand>`. */
export async function runBackups(args: readonly string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === '--help' || sub === '-h') {
    process.stdout.write(backupsUsage);
    return 0;
  }
  if (sub === 'list') return runList(rest);
  if (sub === 'drop') return runDrop(rest);
  return usageError('backups', backupsUsage, sub === undefined ? 'expected a subcommand: list or drop' : `unknown subcommand "${sub}"`);
}
