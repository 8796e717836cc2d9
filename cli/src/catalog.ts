/** `upshift catalog lint <dir> [--connect]`: every problem as `file: field: reason`, exit 2 when there are any. */
import { runCatalogLintCommand } from '@upshift/migrations';

/** Dispatches `upshift catalog <subcommand>`. */
export async function runCatalogCommand(args: readonly string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'lint') {
    process.stderr.write('usage: upshift catalog lint <dir> [--connect]\n');
    return sub === undefined || sub === '--help' ? 0 : 2;
  }
  return runCatalogLintCommand(rest, {
    stdout: (line) => process.stdout.write(`${line}\n`),
    stderr: (line) => process.stderr.write(`${line}\n`),
    env: process.env,
  });
}
