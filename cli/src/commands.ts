/**
 * The `upshift` command table: every command with a one-line summary, its usage (the one list of its
 * flags: `--help` prints it, `upshift completion` reads it) and its implementation.
 */
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { backupsDropUsage, backupsListUsage, backupsUsage, runBackups } from './backups.ts';
import { catalogLintUsage, catalogUsage, runCatalogCommand } from './catalog.ts';
import { completionUsage, runCompletion } from './completion.ts';
import { controlCommands, controlUsage, runControl } from './control.ts';
import { dashboardUsage, runDashboard } from './dashboard.ts';
import { demoUsage } from './demo/usage.ts';
import { devUsage, runDevCommand } from './dev.ts';
import { envUsage, runEnv } from './env.ts';
import { requestUsage, runRequest } from './request.ts';
import { runStatus, statusUsage } from './status.ts';
import { runValidate, validateUsage } from './validate.ts';
import { runVersion, versionUsage } from './version.ts';
import { runWatch, watchUsage } from './watch.ts';

/** Process exit codes: 0 success, 1 the run/operation failed, 2 usage or invalid input. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** One command: its summary for `--help`, its usage, its subcommands' usages, and its implementation. */
export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  readonly subcommands?: Readonly<Record<string, string>>;
  readonly run?: (args: readonly string[]) => Promise<number>;
}

const demoScript = new URL('./demo.ts', import.meta.url);

async function runDemo(args: readonly string[]): Promise<number> {
  const result = spawnSync(process.execPath, [demoScript.pathname, ...args], { stdio: 'inherit' });
  return result.status ?? EXIT.failed;
}

/** All commands, in the order `--help` lists them. */
export const commands: readonly Command[] = [
  { name: 'request', summary: 'validate a policy, publish upgrade.requested, print the run id (--wait: until the run ends; --dry-run: validate only)', usage: requestUsage, run: runRequest },
  { name: 'validate', summary: 'check a policy offline (exit 0 valid, 2 invalid); --connect: also plan\'s preflight against clusters and stores', usage: validateUsage, run: runValidate },
  { name: 'watch', summary: 'follow a run live: stages, waves, shards, progress, its Jaeger trace (exit 0 completed, 1 otherwise)', usage: watchUsage, run: runWatch },
  { name: 'status', summary: 'recent runs, or one run\'s stages, waves, shards and checks, from the control store (-o json|yaml|wide)', usage: statusUsage, run: runStatus },
  ...controlCommands.map((c): Command => ({ name: c.name, summary: c.summary, usage: controlUsage(c.name), run: (args) => runControl(c.name, args) })),
  { name: 'backups', summary: 'list a migration\'s backups (rows, size, run) or drop them once no run needs them', usage: backupsUsage, subcommands: { list: backupsListUsage, drop: backupsDropUsage }, run: runBackups },
  { name: 'dev', summary: 'run the four functions (ports 8081-8084, --port-base) and the dispatcher locally against the stack', usage: devUsage, run: runDevCommand },
  { name: 'catalog', summary: 'lint the migration catalog: catalog lint <dir> [--connect]', usage: catalogUsage, subcommands: { lint: catalogLintUsage }, run: runCatalogCommand },
  { name: 'dashboard', summary: 'serve the live web dashboard (127.0.0.1:8090): runs, waves, shards, checks, controls', usage: dashboardUsage, run: runDashboard },
  { name: 'demo', summary: 'upgrade the sample shop end to end on the local stack', usage: demoUsage, ...(existsSync(demoScript) ? { run: runDemo } : {}) },
  { name: 'env', summary: 'print export lines for the local stack\'s endpoints (eval "$(upshift env)")', usage: envUsage, run: runEnv },
  { name: 'completion', summary: 'print a bash or zsh completion script: upshift completion bash|zsh', usage: completionUsage, run: (args) => runCompletion(args, commands) },
  { name: 'version', summary: 'print the upshift version (also upshift --version)', usage: versionUsage, run: runVersion },
];

/** The `upshift --help` text. */
export function helpText(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}${c.run ? '' : ' (not built yet)'}`);
  return [
    'upshift — upgrade a fleet of Kubernetes services together with their data',
    '',
    'Usage: upshift <command> [options]      upshift <command> --help      upshift --version',
    '',
    'Commands:',
    ...lines,
    '',
    'Environment: KAFKA_BROKERS (host:port,...) is the default for --brokers; DATABASE_URL for the control store;',
    'UPSHIFT_TOPIC_PREFIX for --topic-prefix (request, watch, dev, and the operator controls).',
    'With nothing set, the endpoints the local stack recorded in its context file are used',
    '($UPSHIFT_CONTEXT, else ~/.config/upshift/context.json): a flag wins over a variable, a variable over the file.',
    'NO_COLOR (or TERM=dumb, or output to a pipe) turns colour off.',
    'Exit codes: 0 success, 1 the run or operation failed, 2 usage error or invalid input.',
    '',
  ].join('\n');
}
