/**
 * The `upshift` command table: every command with a one-line summary; commands of later issues
 * are listed honestly as not built yet until their module lands.
 */
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { runCatalogCommand } from './catalog.ts';
import { controlCommands, runControl } from './control.ts';
import { runDashboard } from './dashboard.ts';
import { runDevCommand } from './dev.ts';
import { runRequest } from './request.ts';
import { runStatus } from './status.ts';
import { runWatch } from './watch.ts';

/** Process exit codes: 0 success, 1 the run/operation failed, 2 usage or invalid input. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** One command: its summary for `--help`, and its implementation once built. */
export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly run?: (args: readonly string[]) => Promise<number>;
}

const demoScript = new URL('./demo.ts', import.meta.url);

async function runDemo(args: readonly string[]): Promise<number> {
  const result = spawnSync(process.execPath, [demoScript.pathname, ...args], { stdio: 'inherit' });
  return result.status ?? EXIT.failed;
}

/** All commands, in the order `--help` lists them. */
export const commands: readonly Command[] = [
  { name: 'request', summary: 'validate a policy, publish upgrade.requested, print the run id (--wait: until the run ends)', run: runRequest },
  { name: 'watch', summary: 'follow a run live: stages, waves, shards, progress (exit 0 completed, 1 otherwise)', run: runWatch },
  { name: 'status', summary: 'recent runs, or one run\'s stages, waves, shards and checks, from the control store', run: runStatus },
  ...controlCommands.map((c): Command => ({ name: c.name, summary: c.summary, run: (args) => runControl(c.name, args) })),
  { name: 'dev', summary: 'run the four functions (ports 8081-8084, --port-base) and the dispatcher locally against the stack', run: runDevCommand },
  { name: 'catalog', summary: 'lint the migration catalog: catalog lint <dir> [--connect]', run: runCatalogCommand },
  { name: 'dashboard', summary: 'serve the live web dashboard (127.0.0.1:8090): runs, waves, shards, checks, controls', run: runDashboard },
  { name: 'demo', summary: 'upgrade the sample shop end to end on the local stack', ...(existsSync(demoScript) ? { run: runDemo } : {}) },
];

/** The `upshift --help` text. */
export function helpText(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}${c.run ? '' : ' (not built yet)'}`);
  return [
    'upshift — upgrade a fleet of Kubernetes services together with their data',
    '',
    'Usage: upshift <command> [options]      upshift <command> --help',
    '',
    'Commands:',
    ...lines,
    '',
    'Environment: KAFKA_BROKERS (host:port,...) is the default for --brokers; DATABASE_URL for the control store;',
    'UPSHIFT_TOPIC_PREFIX for --topic-prefix (request, watch, dev, and the controls pause, resume, abort, throttle, retry).',
    'Exit codes: 0 success, 1 the run or operation failed, 2 usage error or invalid input.',
    '',
  ].join('\n');
}
