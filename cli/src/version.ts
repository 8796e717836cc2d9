/** `upshift version` and `upshift --version`: the CLI's version (from its package.json) and the Node running it. */
import { readFileSync } from 'node:fs';
import { parseCommand } from './args.ts';

/** Usage of `upshift version`. */
export const versionUsage = `Usage: upshift version [--short]      upshift --version

  Prints the upshift version and the Node.js version running it.
  --short   the upshift version only
`;

/** The version in cli/package.json. */
export function cliVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
  return manifest.version ?? '0.0.0';
}

/** Runs `upshift version`; returns the exit code. */
export async function runVersion(args: readonly string[]): Promise<number> {
  const parsed = parseCommand('version', versionUsage, args, { short: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } });
  if (typeof parsed === 'number') return parsed;
  if (parsed.positionals.length > 0) {
    process.stderr.write(`upshift version: takes no arguments\n${versionUsage}`);
    return 2;
  }
  process.stdout.write(parsed.values.short ? `${cliVersion()}\n` : `upshift ${cliVersion()} (node ${process.version})\n`);
  return 0;
}
