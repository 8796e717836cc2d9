/**
 * Support of the delivery fault tests: a whole run (plan → rollout → migrate-shard → verify) of one
 * service in cluster upshift-a with the orders-currency migration after it, over an `orders` table whose
 * rows count their updates and cost a little time each (so shards work long enough to be hit), and a
 * tally of what the dispatcher saw.
 */
import type { AnyUpshiftEvent } from '@upshift/events';
import { uuidv7 } from '@upshift/events';
import type { DeliveryOutcome, DispatchTarget } from '@upshift/runtime/dev';
import type pg from 'pg';
import type { ShardTest } from '../../functions/migrate-shard/test/support.ts';
import { deploy, deployment, freshNamespace } from '../support/kube.ts';
import { testPolicy } from '../support/policy.ts';

/** `orders` at the old version, `rows` rows, each update counted in `touches` and costing `msPerRow`. */
export async function seedCountedOrders(shop: pg.Client, rows: number, msPerRow: number): Promise<void> {
  await shop.query(`DROP TABLE IF EXISTS orders; DROP SCHEMA IF EXISTS upshift_backup CASCADE;
    CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL, amount numeric(12,2), note text,
      schema_version integer NOT NULL DEFAULT 1, touches integer NOT NULL DEFAULT 0);
    CREATE OR REPLACE FUNCTION count_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.touches := OLD.touches + 1; PERFORM pg_sleep(${msPerRow / 1000}); RETURN NEW; END $$;
    CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION count_touch();`);
  await shop.query(`INSERT INTO orders (id, customer_id, amount, note) SELECT g, g % 500, CASE WHEN g % 97 = 0 THEN NULL ELSE ((g * 7919) % 100000) / 100.0 END, 'order ' || g
    FROM generate_series(1, $1::integer) g`, [rows]);
  await shop.query('ANALYZE orders');
}

/** The highest update count of a row and how many rows were updated exactly once. */
export async function touches(shop: pg.Client): Promise<{ max: number; once: number }> {
  const { rows: [row] } = await shop.query<{ max: number; once: number }>('SELECT max(touches)::int AS max, count(*) FILTER (WHERE touches = 1)::int AS once FROM orders');
  return row ?? { max: -1, once: -1 };
}

/** What the dispatcher reported, per outcome, for `onOutcome`. */
export function deliveryTally() {
  const tally = { delivered: 0, deadLetters: [] as string[], dropped: 0, throttled: 0, throttledByFunction: {} as Record<string, number>, mostAttempts: {} as Record<string, number> };
  const onOutcome = (target: DispatchTarget, outcome: DeliveryOutcome): void => {
    tally.throttled += outcome.throttled;
    tally.mostAttempts[target.functionName] = Math.max(tally.mostAttempts[target.functionName] ?? 0, outcome.attempts);
    tally.throttledByFunction[target.functionName] = (tally.throttledByFunction[target.functionName] ?? 0) + outcome.throttled;
    if (outcome.kind === 'delivered') tally.delivered += 1;
    if (outcome.kind === 'dropped') tally.dropped += 1;
    if (outcome.kind === 'dead-letter') tally.deadLetters.push(`${target.functionName}: ${outcome.reason}`);
  };
  return { tally, onOutcome };
}

/** The final lifecycle event types of a run. */
export const runEnds = ['upgrade.completed', 'upgrade.failed', 'upgrade.rolled-back', 'upgrade.rejected'] as const;

/**
 * Deploys `orders` 1.0.0 in upshift-a of a fresh namespace and requests its upgrade to 2.0.0 with the
 * orders-currency migration in `shards` shards after it. Returns the run id and the namespace's removal.
 */
export async function requestOrdersRun(t: ShardTest, shards: number, batchSize: number): Promise<{ runId: string; remove: () => Promise<void> }> {
  const ns = await freshNamespace('faults');
  const image = (version: string) => `registry.local/faults/orders:${version}`;
  await deploy('upshift-a', ns.name, [deployment('orders', image('1.0.0'), { replicas: 1 })]);
  const document = testPolicy(ns.name, [{ name: 'orders', image: image('2.0.0') }], {
    clusters: [{ name: 'upshift-a', context: 'upshift-a' }], failurePolicy: 'rollback', maxParallelServices: 1,
  });
  const policy = { ...document, spec: { ...document.spec, migrations: [{ ref: 'orders-currency@1', shards, batchSize, backup: true, after: ['orders'] }] } };
  const runId = uuidv7();
  await t.harness.request(policy, runId);
  return { runId, remove: ns.remove };
}

/** The run's migrations as `upgrade.completed` reports them: [ref, shards, rows]. */
export function migrationsOf(end: AnyUpshiftEvent): Array<[string, number, number]> {
  const data = end.data as { migrations?: Array<{ ref: string; shards: number; rowsMigrated: number }> };
  return (data.migrations ?? []).map((m) => [m.ref, m.shards, m.rowsMigrated]);
}
