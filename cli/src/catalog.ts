/**
 * `upshift catalog lint <dir> [--connect]`: every problem as `file: field: reason`, exit 2 when there are
 * any. The lines quote catalog files and database errors, so each is escaped and has its passwords redacted.
 * A bare `upshift catalog` is a usage error (exit 2); `--help` prints the usage on stdout (exit 0).
 */
import { redactCredentials } from '@upshift/runtime';
import { parseCommand, usageError } from './args.ts';
import { line } from './escape.ts';

/** Usage of `upshift catalog`. */
export const catalogUsage = `Usage: upshift catalog lint <dir> [--connect]

Subcommands:
  lint   check every migration file of the catalog folder: format, identifiers, SQL fragments, checksums,
         transform modules; each problem as file: field: reason (exit 2 when there are any)
`;

/** Usage of `upshift catalog lint`. */
export const catalogLintUsage = `Usage: upshift catalog lint <dir> [--connect]

  --connect   also check each migration against its store, read-only: the URL comes from the variable
              the migration's \`connection\` names (e.g. $SHOP_DATABASE_URL); table/collection, key and columns
`;

const lintOptions = {
  connect: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** Dispatches `upshift catalog <subcommand>`. */
export async function runCatalogCommand(args: readonly string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === '--help' || sub === '-h') {
    process.stdout.write(catalogUsage);
    return 0;
  }
  if (sub !== 'lint') return usageError('catalog', catalogUsage, sub === undefined ? 'expected a subcommand' : `unknown subcommand "${sub}"`);
  const parsed = parseCommand('catalog lint', catalogLintUsage, rest, lintOptions);
  if (typeof parsed === 'number') return parsed;
  if (parsed.positionals.length !== 1) return usageError('catalog lint', catalogLintUsage, 'expected exactly one catalog folder');
  const { runCatalogLintCommand } = await import('@upshift/migrations'); // loaded when used: the other commands start faster
  return runCatalogLintCommand([...parsed.positionals, ...(parsed.values.connect ? ['--connect'] : [])], {
    stdout: (text) => process.stdout.write(line(redactCredentials(text))),
    stderr: (text) => process.stderr.write(line(redactCredentials(text))),
    env: process.env,
  });
}
