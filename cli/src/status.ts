/**
 * `upshift status [<run>]`: from the control store (DATABASE_URL), a table of recent runs, or one run's
 * stages, waves, shards and checks; `--json` for machines. Exit 1 when the run is unknown.
 */
import { parseCommand, usageError as commandUsageError } from './args.ts';
import { RunId } from '@upshift/events';
import { jsonForTerminal, line } from './escape.ts';
import { deadLettersTable, runsTable, stepsTable, formatTime, durationText } from './status/format.ts';
import { controlSection } from './status/control.ts';
import { viewRunControl } from '@upshift/runtime';
import { renderFrame, viewToJson } from './watch/render.ts';
import { applyEvents, applyShardCheckpoints, emptyView, outcomeFromStatus, type RunView } from './watch/state.ts';
import { connectStore, hasControlStore, readRun, readRunEvents, readShardCheckpoints, readSteps, recentRuns, type Queryable, type RunRow } from './watch/store.ts';

/** Usage of `upshift status`. */
export const statusUsage = `Usage: upshift status [<run-id>] [--database-url url] [--limit n] [--json]

  without a run id: the most recent runs (id, policy, status, started, duration)
  with a run id:    that run's stages, waves, migrations and shards, checks, steps, dead letters and
                    its operator controls (paused, throttled, who asked, the last controls)
  --database-url    the control store (default: $DATABASE_URL)
  --limit           how many recent runs (default 20)
  --json            machine-readable output
`;

const options = {
  'database-url': { type: 'string' },
  limit: { type: 'string', default: '20' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const usageError = (message: string): number => commandUsageError('status', statusUsage, message);

function runJson(run: RunRow): Record<string, unknown> {
  const durationMs = run.finishedAt ? run.finishedAt.getTime() - run.createdAt.getTime() : null;
  return { id: run.id, policy: run.policyName ?? null, status: run.status, startedAt: run.createdAt.toISOString(), finishedAt: run.finishedAt?.toISOString() ?? null, durationMs };
}

async function listRuns(db: Queryable, limit: number, json: boolean): Promise<number> {
  const runs = await recentRuns(db, limit);
  if (json) process.stdout.write(`${jsonForTerminal({ runs: runs.map(runJson) }, 2)}\n`);
  else process.stdout.write(runsTable(runs.map((r) => ({ id: r.id, policy: r.policyName ?? '-', status: r.status, startedAt: r.createdAt, finishedAt: r.finishedAt })), Date.now()));
  return 0;
}

/** The run's view folded from its outbox events and shard checkpoints, as `upshift watch` would show it. */
export async function runView(db: Queryable, run: RunRow): Promise<RunView> {
  const { events } = await readRunEvents(db, run.id);
  let view = applyEvents({ ...emptyView(run.id), startedAt: run.createdAt.getTime(), ...(run.policyName ? { policyName: run.policyName } : {}) }, events);
  view = applyShardCheckpoints(view, await readShardCheckpoints(db, run.id), Date.now());
  const outcome = run.finishedAt && !view.outcome ? outcomeFromStatus(run.status) : undefined;
  return outcome ? { ...view, outcome, lastEventAt: run.finishedAt?.getTime() ?? Date.now() } : view;
}

async function showRun(db: Queryable, runId: string, json: boolean): Promise<number> {
  const run = await readRun(db, runId);
  if (!run) {
    process.stderr.write(line(`upshift status: no run ${runId} in the control store`));
    return 1;
  }
  const [view, steps] = await Promise.all([runView(db, run), readSteps(db, run.id)]);
  const control = await viewRunControl(db, run.id);
  if (json) {
    const stepJson = steps.map((s) => ({ ...s, startedAt: s.startedAt?.toISOString() ?? null, finishedAt: s.finishedAt?.toISOString() ?? null }));
    process.stdout.write(`${jsonForTerminal({ run: runJson(run), view: viewToJson(view), steps: stepJson, ...(control ? { control } : {}) }, 2)}\n`);
    return 0;
  }
  const now = Date.now();
  process.stdout.write(line(`status: ${run.status}  started ${formatTime(run.createdAt)} UTC  duration ${durationText(run.createdAt, run.finishedAt, now)}`));
  process.stdout.write(renderFrame(view, now));
  process.stdout.write(`\nsteps\n${stepsTable(steps, now, view.waves.length)}`);
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
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) return usageError(`--limit must be a positive integer, got "${values.limit}"`);
  const url = values['database-url'] ?? process.env.DATABASE_URL;
  if (!url) return usageError('no control store: pass --database-url or set DATABASE_URL');
  const db = await connectStore(url);
  try {
    if (!(await hasControlStore(db))) {
      process.stderr.write('upshift status: this database has no upshift control store (schema upshift)\n');
      return 1;
    }
    return runId === undefined ? await listRuns(db, limit, values.json) : await showRun(db, runId, values.json);
  } finally {
    await db.end();
  }
}
