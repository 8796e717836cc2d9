/**
 * `upshift catalog lint <dir> [--connect]`: every problem as `file: field: reason`, exit 2 when there are
 * any. The lines quote catalog files and database errors, so each is escaped and has its passwords redacted.
 */
import { runCatalogLintCommand } from '@upshift/migrations';
import { redactCredentials } from '@upshift/runtime';
import { line } from './escape.ts';

/** Dispatches `upshift catalog <subcommand>`. */
export async function runCatalogCommand(args: readonly string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'lint') {
    process.stderr.write('usage: upshift catalog lint <dir> [--connect]\n');
    return sub === undefined || sub === '--help' ? 0 : 2;
  }
  return runCatalogLintCommand(rest, {
    stdout: (text) => process.stdout.write(line(redactCredentials(text))),
    stderr: (text) => process.stderr.write(line(redactCredentials(text))),
    env: process.env,
  });
}
