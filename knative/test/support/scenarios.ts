/**
 * One real event per function for the bundle test, chosen so it needs no Kubernetes cluster or data
 * store: what to seed in the control store, what to publish, and the output that proves it was handled.
 * A function without a scenario of its own gets its catalogue fixture and must at least record it in
 * its inbox or dead-letter it with a reason (the HTTP path, decoding and the store all ran).
 */
import { createEvent, entryFor, fixture, parsePolicy, routesFor, uuidv7 } from '@upshift/events';
import type { AnyUpshiftEvent, EventName, FunctionName, RunPlan } from '@upshift/events';
import pg from 'pg';

/** What a scenario can look at while it waits. */
export interface Observed {
  readonly lifecycle: readonly AnyUpshiftEvent[];
  readonly deadLetterIds: readonly string[];
  readonly inboxed: boolean;
}

/** One event to publish and what proves it was handled. */
export interface Scenario {
  readonly title: string;
  readonly event: AnyUpshiftEvent;
  seed?(databaseUrl: string): Promise<void>;
  done(observed: Observed): boolean;
  /** Whether the event must also be recorded in the function's inbox. */
  readonly inboxed: boolean;
}

function lifecycleFor(observed: Observed, type: EventName, runId: string): AnyUpshiftEvent | undefined {
  return observed.lifecycle.find((e) => e.type === entryFor(type).type && (e.data as { runId?: string }).runId === runId);
}

function planScenario(): Scenario {
  const runId = uuidv7();
  const policy = { apiVersion: 'upshift.dev/v1alpha1' as const, kind: 'UpgradePolicy' as const, metadata: { name: 'broken-policy' }, spec: { clusters: [], services: 'none' } };
  return {
    title: 'an upgrade.requested with an invalid policy yields upgrade.rejected on the lifecycle topic',
    event: createEvent('upgrade.requested', { runId, policy }, { producer: 'cli' }) as AnyUpshiftEvent,
    done: (observed) => (lifecycleFor(observed, 'upgrade.rejected', runId)?.data as { code?: string } | undefined)?.code === 'invalid-policy',
    inboxed: true,
  };
}

/** A run whose plan has no waves: reverting it touches no cluster and ends the run rolled back. */
async function seedEmptyRun(databaseUrl: string, runId: string): Promise<void> {
  const parsed = parsePolicy(fixture('upgrade.requested').data.policy);
  if (!parsed.ok) throw new Error('the upgrade.requested fixture has an invalid policy');
  const plan: RunPlan = { runId, policyName: 'empty-run', dryRun: false, strategy: parsed.policy.spec.strategy, clusters: [], waves: [], migrations: [] };
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`INSERT INTO upshift.runs (id, status, request, plan) VALUES ($1, 'running', '{}', $2)`, [runId, JSON.stringify(plan)]);
  } finally {
    await client.end();
  }
}

function rolloutScenario(): Scenario {
  const runId = uuidv7();
  return {
    title: 'an image.revert.requested for a run without touched waves yields upgrade.rolled-back',
    event: createEvent('image.revert.requested', { runId, reason: 'bundle test', stage: 'rollout', restoredShards: 0 }, { producer: 'verify' }) as AnyUpshiftEvent,
    seed: (databaseUrl) => seedEmptyRun(databaseUrl, runId),
    done: (observed) => lifecycleFor(observed, 'upgrade.rolled-back', runId) !== undefined,
    inboxed: true,
  };
}

function fixtureScenario(fn: FunctionName): Scenario {
  const name = routesFor(fn).entries[0]?.name as EventName | undefined;
  if (!name) throw new Error(`${fn} consumes nothing`);
  const event = fixture(name) as AnyUpshiftEvent;
  return {
    title: `its ${name} fixture is recorded in the inbox or dead-lettered with a reason`,
    event,
    done: (observed) => observed.inboxed || observed.deadLetterIds.includes(event.id),
    inboxed: false,
  };
}

/** The scenario of a function. */
export function scenarioFor(fn: FunctionName): Scenario {
  if (fn === 'plan') return planScenario();
  if (fn === 'rollout') return rolloutScenario();
  return fixtureScenario(fn);
}
