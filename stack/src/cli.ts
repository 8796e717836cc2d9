#!/usr/bin/env node
import { spawn } from 'node:child_process';
import { down, recordStackContext, stackEnv, status, up } from './stack.ts';
import type { ComponentStatus } from './component.ts';

const usage = `usage: node stack/src/cli.ts <command>
  up [component...]      install (cached) and start the local stack; harmless when already up
  down [component...]    stop it
  status [--json]        what runs where (endpoints, state, pids, memory)
  env                    print 'export NAME=value' lines for the stack's endpoints (and record them for upshift)
  test [--unit] [files]  start the stack, then run the test suites against it
  exec -- <cmd> [args]   start the stack, then run a command with its env (bench, demo)`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'up':
      await up(rest);
      return 0;
    case 'down':
      await down(rest);
      return 0;
    case 'status':
      return printStatus(await status(), rest.includes('--json'));
    case 'env':
      recordStackContext();
      for (const [key, value] of Object.entries(stackEnv())) process.stdout.write(`export ${key}='${value}'\n`);
      return 0;
    case 'test':
      return runTests(rest);
    case 'exec':
      return runWithStack(rest[0] === '--' ? rest.slice(1) : rest);
    default:
      process.stderr.write(`${usage}\n`);
      return command === undefined || command === '--help' ? 0 : 2;
  }
}

function printStatus(rows: ComponentStatus[], json: boolean): number {
  if (json) {
    process.stdout.write(`${JSON.stringify({ components: rows }, null, 2)}\n`);
  } else {
    for (const row of rows) {
      const endpoints = Object.entries(row.endpoints).map(([k, v]) => `${k}=${v}`).join(' ');
      const memory = row.rssMiB === undefined ? '' : ` ${row.rssMiB} MiB`;
      process.stdout.write(`${row.name.padEnd(14)} ${row.state.padEnd(9)} ${row.version.padEnd(9)} ${endpoints}${memory}\n`);
      if (row.log && row.state !== 'ready') process.stdout.write(`${''.padEnd(14)} log: ${row.log}\n`);
    }
  }
  return rows.every((row) => row.state === 'ready' || row.state === 'external') ? 0 : 1;
}

/** Test files: unit tests need no stack; the rest talk to the real servers. */
const unitPatterns = ['**/test/unit/**/*.test.ts', 'functions/*/test/core/**/*.test.ts', 'workloads/test/core/**/*.test.ts'];
const allPatterns = ['events/test/**/*.test.ts', 'runtime/test/**/*.test.ts', 'migrations/test/**/*.test.ts', 'workloads/test/**/*.test.ts',
  'functions/*/test/**/*.test.ts', 'cli/test/**/*.test.ts', 'dashboard/test/**/*.test.ts', 'stack/test/**/*.test.ts', 'test/**/*.test.ts', 'knative/test/**/*.test.ts'];

async function runTests(args: string[]): Promise<number> {
  const unitOnly = args.includes('--unit');
  const files = args.filter((arg) => !arg.startsWith('--'));
  if (!unitOnly) await up();
  const patterns = files.length > 0 ? files : unitOnly ? unitPatterns : allPatterns;
  const child = spawn(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=600000', ...patterns], {
    stdio: 'inherit',
    env: { ...process.env, ...stackEnv() },
  });
  return new Promise((resolve) => child.once('close', (code) => resolve(code ?? 1)));
}

async function runWithStack(command: string[]): Promise<number> {
  const [program, ...args] = command;
  if (!program) {
    process.stderr.write(`${usage}\n`);
    return 2;
  }
  await up();
  const child = spawn(program === 'node' ? process.execPath : program, args, { stdio: 'inherit', env: { ...process.env, ...stackEnv() } });
  return new Promise((resolve) => child.once('close', (code) => resolve(code ?? 1)));
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`stack: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
