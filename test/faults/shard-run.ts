/**
 * Support of the delivery fault tests: a whole run (plan → rollout → migrate-shard → verify) of one
 * service in cluster upshift-a with the orders-currency migration after it, over an `orders` table whose
 * rows count their updates and may cost a little time each (so shards work long enough to be hit), a
 * tally of what the dispatcher saw, the shards' checkpoints as the control store holds them, and the
 * seeded choice of fault moments.
 */
import { seededRandom } from '../support/seeded-random.ts';
import type { AnyUpshiftEvent } from '@upshift/events';
import { uuidv7 } from '@upshift/events';
import type { DeliveryOutcome, DispatchTarget } from '@upshift/runtime/dev';
import type pg from 'pg';
import type { ShardTest } from '../../functions/migrate-shard/test/support.ts';
import { deploy, deployment, freshNamespace } from '../support/kube.ts';
import { testPolicy } from '../support/policy.ts';

/**
 * `orders` at the old version, `rows` rows, each update counted in `touches` and costing `msPerRow`
 * (0: no sleep at all; the counting trigger alone makes a 1,000,000-row backfill about 30 % slower).
 * Keys are bigint all the way (`g * 7919` overflows an integer past 271,000 rows).
 */
export async function seedCountedOrders(shop: pg.Client, rows: number, msPerRow: number): Promise<void> {
  const sleep = msPerRow > 0 ? `PERFORM pg_sleep(${msPerRow / 1000}); ` : '';
  await shop.query(`DROP TABLE IF EXISTS orders; DROP SCHEMA IF EXISTS upshift_backup CASCADE;
    CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL, amount numeric(12,2), note text,
      schema_version integer NOT NULL DEFAULT 1, touches integer NOT NULL DEFAULT 0);
    CREATE OR REPLACE FUNCTION count_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.touches := OLD.touches + 1; ${sleep}RETURN NEW; END $$;
    CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION count_touch();`);
  await shop.query(`INSERT INTO orders (id, customer_id, amount, note) SELECT g, g % 500, CASE WHEN g % 97 = 0 THEN NULL ELSE ((g * 7919) % 100000) / 100.0 END, 'order ' || g
    FROM generate_series(1, $1::bigint) g`, [rows]);
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

/** One shard step as the control store holds it: status, the lease token of its last writer, rows scanned so far. */
export interface ShardCheckpointSeen {
  status: string;
  token: number;
  scanned: number;
}

/** The shard steps of a run by shard id (the checkpoints migrate-shard commits after every batch). */
export async function shardCheckpoints(control: pg.Client, runId: string): Promise<Map<string, ShardCheckpointSeen>> {
  const { rows } = await control.query<{ key: string; status: string; token: string; scanned: number | null }>(
    `SELECT key, status, fencing_token AS token, (checkpoint->'checkpoint'->>'scanned')::int AS scanned FROM upshift.steps WHERE run_id = $1 AND kind = 'shard'`, [runId]);
  return new Map(rows.map((r) => [r.key, { status: r.status, token: Number(r.token), scanned: r.scanned ?? 0 }]));
}

/** Rows scanned over every shard: each row is scanned once per committed checkpoint, so this ends at the table's size. */
export function rowsDone(shards: ReadonlyMap<string, ShardCheckpointSeen>): number {
  let total = 0;
  for (const shard of shards.values()) total += shard.scanned;
  return total;
}

/**
 * How far the shards running when `before` was seen (the moment of a kill) have resumed: `first`, some
 * shard's checkpoint was written under a newer lease token (a new holder) past where it stood; `all`,
 * every one of them has, or is no longer running.
 */
export function resumption(before: ReadonlyMap<string, ShardCheckpointSeen>, now: ReadonlyMap<string, ShardCheckpointSeen>): { first: boolean; all: boolean } {
  const movedOn = (was: ShardCheckpointSeen, shard: ShardCheckpointSeen) => shard.token > was.token && shard.scanned > was.scanned;
  let first = false;
  let all = true;
  for (const [shardId, shard] of now) {
    const was = before.get(shardId) ?? { status: 'pending', token: 0, scanned: 0 };
    if (movedOn(was, shard)) first = true;
    if (was.status === 'running' && shard.status === 'running' && !movedOn(was, shard)) all = false;
  }
  return { first, all };
}

/** Polls `check` every 50 ms until it returns a value; throws `what` after `timeoutMs`. */
export async function until<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await check();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * `count` fault moments as fractions of the work, spread over [from, to): one uniformly drawn inside each
 * of `count` equal slices, so they neither bunch up nor come in a fixed pattern. Deterministic in `seed`
 * (test/support/seeded-random.ts), so a printed seed replays the same moments.
 */
export function seededFractions(seed: number, count: number, from: number, to: number): number[] {
  const width = (to - from) / count;
  const draw = seededRandom(seed);
  return Array.from({ length: count }, (_, i) => from + width * (i + draw()));
}

/** The rows of the orders-currency backup table and how many of them are not a row changed exactly once. */
export async function ordersBackup(shop: pg.Client): Promise<{ rows: number; strays: number }> {
  const { rows: tables } = await shop.query<{ name: string }>(
    `SELECT quote_ident(table_name) AS name FROM information_schema.tables WHERE table_schema = 'upshift_backup' AND table_name LIKE 'orders\\_\\_%'`);
  if (tables.length !== 1) throw new Error(`expected one backup table of orders, found ${tables.map((t) => t.name).join(', ') || 'none'}`);
  const { rows: [row] } = await shop.query<{ rows: number; strays: number }>(`SELECT count(*)::int AS rows, count(*) FILTER (WHERE o.touches IS DISTINCT FROM 1)::int AS strays
    FROM upshift_backup.${tables[0]?.name ?? ''} b LEFT JOIN orders o ON o.id = b.id`);
  return row ?? { rows: -1, strays: -1 };
}
