/**
 * Facts of a run's plan that never change once it is stored (the plan is written once, at plan time),
 * read once per run and process: a progress report of every checkpoint must not read the whole plan.
 */
import { loadPlan, type Queryable } from '@upshift/runtime';

/** Runs whose facts are kept; the oldest is forgotten beyond it (a process works on few runs at once). */
const keptRuns = 256;
const waves = new Map<string, number>();

/** How many waves the run's plan has (0 for a run without a plan). */
export async function wavesOfRun(db: Queryable, runId: string): Promise<number> {
  const known = waves.get(runId);
  if (known !== undefined) return known;
  const plan = await loadPlan(db, runId);
  if (!plan) return 0;
  const count = plan.waves.length;
  if (waves.size >= keptRuns) waves.delete(waves.keys().next().value!);
  waves.set(runId, count);
  return count;
}
