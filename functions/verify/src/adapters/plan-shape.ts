/**
 * What verify's fan-in needs of a run's plan on every shard outcome: the last wave and each migration's
 * ref and wave. The plan is written once, at plan time, so this is read once per run and process: a
 * fan-in of 10,000 shards does not read the whole plan 10,000 times.
 */
import { requirePlan, type Queryable } from '@upshift/runtime';

/** The fan-in's view of a plan. */
export interface PlanShape {
  readonly lastWave: number;
  readonly migrations: ReadonlyArray<{ readonly ref: string; readonly afterWave: number }>;
}

/** Runs whose shape is kept; the oldest is forgotten beyond it. */
const keptRuns = 256;
const shapes = new Map<string, PlanShape>();

/** The run's plan shape (a contract violation when the run has no plan, as `requirePlan`). */
export async function planShape(db: Queryable, runId: string): Promise<PlanShape> {
  const known = shapes.get(runId);
  if (known) return known;
  const plan = await requirePlan(db, runId);
  const shape: PlanShape = { lastWave: plan.waves.length - 1, migrations: plan.migrations.map((m) => ({ ref: m.ref, afterWave: m.afterWave })) };
  if (shapes.size >= keptRuns) shapes.delete(shapes.keys().next().value!);
  shapes.set(runId, shape);
  return shape;
}
