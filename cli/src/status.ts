/**
 * `upshift status [<run>]`: from the control store (DATABASE_URL), a table of recent runs, or one run's
 * stages, waves, shards and checks; `-o json|yaml` for machines (`--json` is `-o json`), `-o wide` for
 * more columns. Exit 1 when the run is unknown.
 */
import { stringify as yamlText } from 'yaml';
import { outputFormatOption, parseCommand, usageError as commandUsageError, type OutputFormat } from './args.ts';
import { colourStatus, jaegerUiUrl, paintFrame, stdoutColours } from './colour.ts';
import { RunId } from '@upshift/events';
import { jsonForTerminal, line, terminalSafe } from './escape.ts';
import { deadLettersTable, runsTable, stepsTable, formatTime, durationText } from './status/format.ts';
import { controlSection } from './status/control.ts';
import { perShardStepKinds, viewRunControl, viewShardSummary } from '@upshift/runtime';
import { shardSummarySection } from './status/shards.ts';
import { renderFrame, viewToJson } from './watch/render.ts';
import { applyEvents, applyShardCheckpoints, emptyView, outcomeFromStatus, type RunView } from './watch/state.ts';
import { connectStore, hasControlStore, readRun, readRunEvents, readShardCheckpoints, readSteps, recentRuns, type Queryable, type RunRow } from './watch/store.ts';

/** Usage of `upshift status`. */
export const statusUsage = `Usage: upshift status [<run-id>] [--database-url url] [--limit n] [-o json|yaml|wide]

  without a run id: the most recent runs (id, policy, status, started, duration)
  with a run id:    that run's stages, waves, migrations and shards, checks, steps, dead letters and
                    its operator controls (paused, throttled, who asked, the last controls)
  --database-url    the control store (default: $DATABASE_URL, else the context file)
  --limit           how many recent runs (default 20)
  -o, --output      json or yaml (machine-readable: the same document), wide (the table with when each
                    run finished, its waves and migrations; for one run, its plan too)
  --json            the same as -o json
  --shards          summary (default: shards counted by status, the failed and longest running named)
                    or all (every shard step listed: long for a run of thousands of shards)
`;

const options = {
  'database-url': { type: 'string' },
  limit: { type: 'string', default: '20' },
  json: { type: 'boolean', default: false },
  output: { type: 'string', short: 'o' },
  shards: { type: 'string', default: 'summary' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const usageError = (message: string): number => commandUsageError('status', statusUsage, message);

function runJson(run: RunRow): Record<string, unknown> {
  const durationMs = run.finishedAt ? run.finishedAt.getTime() - run.createdAt.getTime() : null;
  return { id: run.id, policy: run.policyName ?? null, status: run.status, startedAt: run.createdAt.toISOString(), finishedAt: run.finishedAt?.toISOString() ?? null, durationMs };
}

/** Writes a machine-readable document as JSON or YAML (YAML from the escaped JSON, so it is as terminal-safe). */
function writeDocument(document: Record<string, unknown>, format: 'json' | 'yaml'): void {
  const json = jsonForTerminal(document, 2);
  process.stdout.write(format === 'json' ? `${json}\n` : yamlText(JSON.parse(json)));
}

async function listRuns(db: Queryable, limit: number, format: OutputFormat): Promise<number> {
  const runs = await recentRuns(db, limit);
  if (format === 'json' || format === 'yaml') {
    writeDocument({ runs: runs.map(runJson) }, format);
    return 0;
  }
  const colours = stdoutColours();
  const rows = runs.map((r) => ({ id: r.id, policy: r.policyName ?? '-', status: r.status, startedAt: r.createdAt, finishedAt: r.finishedAt, waves: r.plan?.waves.length, migrations: r.plan?.migrations.map((m) => m.ref) }));
  process.stdout.write(runsTable(rows, Date.now(), { wide: format === 'wide', paint: (column, cell) => (column === 'STATUS' ? colourStatus(colours, cell) : cell) }));
  return 0;
}

/** `-o wide` of one run: when it finished and what its plan holds. */
function planLines(run: RunRow): string {
  const plan = run.plan;
  const finished = run.finishedAt ? `${formatTime(run.finishedAt)} UTC` : '-';
  const migrations = plan?.migrations.map((m) => m.ref).join(', ') || 'none';
  return line(`finished: ${finished}  policy: ${run.policyName ?? '-'}  waves: ${plan?.waves.length ?? '-'}  migrations: ${migrations}`);
}

/** The run's view folded from its outbox events and shard checkpoints, as `upshift watch` would show it. */
export async function runView(db: Queryable, run: RunRow): Promise<RunView> {
  const { events } = await readRunEvents(db, run.id, 0, { summary: true });
  let view = applyEvents({ ...emptyView(run.id), startedAt: run.createdAt.getTime(), ...(run.policyName ? { policyName: run.policyName } : {}) }, events);
  view = applyShardCheckpoints(view, await readShardCheckpoints(db, run.id), Date.now());
  const outcome = run.finishedAt && !view.outcome ? outcomeFromStatus(run.status) : undefined;
  return outcome ? { ...view, outcome, lastEventAt: run.finishedAt?.getTime() ?? Date.now() } : view;
}

async function showRun(db: Queryable, runId: string, format: OutputFormat, allShards = false): Promise<number> {
  const run = await readRun(db, runId);
  if (!run) {
    process.stderr.write(line(`upshift status: no run ${runId} in the control store`));
    return 1;
  }
  // One connection: the reads go one after the other (pg queues concurrent queries, with a warning).
  const view = await runView(db, run);
  const steps = await readSteps(db, run.id, allShards ? {} : { exceptKinds: perShardStepKinds });
  const shards = allShards ? undefined : await viewShardSummary(db, run.id);
  const control = await viewRunControl(db, run.id);
  if (format === 'json' || format === 'yaml') {
    const stepJson = steps.map((s) => ({ ...s, startedAt: s.startedAt?.toISOString() ?? null, finishedAt: s.finishedAt?.toISOString() ?? null }));
    writeDocument({ run: runJson(run), view: viewToJson(view), steps: stepJson, ...(shards ? { shards } : {}), ...(control ? { control } : {}) }, format);
    return 0;
  }
  const now = Date.now();
  const status = colourStatus(stdoutColours(), terminalSafe(run.status));
  process.stdout.write(`status: ${status}  ${terminalSafe(`started ${formatTime(run.createdAt)} UTC  duration ${durationText(run.createdAt, run.finishedAt, now)}`)}\n`);
  if (format === 'wide') process.stdout.write(planLines(run));
  process.stdout.write(paintFrame(stdoutColours(), renderFrame(view, now, jaegerUiUrl())));
  process.stdout.write(`\nsteps\n${stepsTable(steps, now, view.waves.length)}`);
  if (shards) process.stdout.write(shardSummarySection(shards, now));
  process.stdout.write(deadLettersTable(steps));
  process.stdout.write(controlSection(control));
  return 0;
}

/** Runs `upshift status`; returns the exit code. */
export async function runStatus(args: readonly string[]): Promise<number> {
  const parsed = parseCommand('status', statusUsage, args, options);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length > 1) return usageError('expected at most one run id');
  const runId = positionals[0];
  if (runId !== undefined && !RunId.safeParse(runId).success) return usageError(`"${runId}" is not a run id`);
  const format = outputFormatOption(values.output, values.json);
  if (typeof format !== 'string') return usageError(format.problem);
  if (values.shards !== 'summary' && values.shards !== 'all') return usageError(`--shards must be summary or all, got "${values.shards}"`);
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) return usageError(`--limit must be a positive integer, got "${values.limit}"`);
  const url = values['database-url'] ?? process.env.DATABASE_URL;
  if (!url) return usageError('no control store: pass --database-url, set DATABASE_URL, or start the local stack (it records a context file)');
  const db = await connectStore(url);
  try {
    if (!(await hasControlStore(db))) {
      process.stderr.write('upshift status: this database has no upshift control store (schema upshift)\n');
      return 1;
    }
    return runId === undefined ? await listRuns(db, limit, format) : await showRun(db, runId, format, values.shards === 'all');
  } finally {
    await db.end();
  }
}
