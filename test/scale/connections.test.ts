/**
 * The connection budget (runtime/README.md, "Connection budget"): 32 instances of migrate-shard plus
 * plan, rollout and verify run a migration of 32 shards against the stack's PostgreSQL with its
 * max_connections, and the connections they hold (sampled from pg_stat_activity throughout, by
 * database and application) stay within the budget the README states, at rest and under load; the run
 * completes with no refusal (no dead letter, no 53300 too_many_connections in the outcomes).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { isEventOf } from '@upshift/events';
import pg from 'pg';
import { expectedOrdersChecksum, migratedOrdersChecksum, startShardTest, type ShardTest } from '../../functions/migrate-shard/test/support.ts';
import { controlPoolMax } from '../../runtime/src/store/pool.ts';
import { deliveryTally, migrationsOf, requestOrdersRun, runEnds, seedCountedOrders } from '../faults/shard-run.ts';
import { instancesOf } from './instances.ts';

const workers = 32;
const shards = 32;
const rows = 32 * 50;
const { tally, onOutcome } = deliveryTally();
const refusals: string[] = [];
let t: ShardTest;

/**
 * The budget of this deployment as runtime/README states it, per instance under load: its control pool
 * (controlPoolMax of its containerConcurrency) and the relay's LISTEN connection; migrate-shard adds
 * per migration its engine pool (shard slots + 1) and its pressure sampler (1); plan and verify open one
 * connection per migration for each request they handle.
 */
function budget(): { perMigrateShard: number; others: number; total: number } {
  const perMigrateShard = controlPoolMax(1) + 1 + (1 + 1) + 1;
  const others = 3 * (controlPoolMax(10) + 1) + 2 * 10 * 1;
  return { perMigrateShard, others, total: workers * perMigrateShard + others };
}

let startedInMs = 0;

before(async () => {
  const started = Date.now();
  t = await startShardTest({
    functions: ['plan', 'rollout', 'migrate-shard', 'verify'], mode: 'process',
    dev: { onOutcome: (target, outcome) => {
      onOutcome(target, outcome);
      if ('reason' in outcome && /53300|too many clients/i.test(outcome.reason)) refusals.push(outcome.reason);
    } },
    extraEnv: { UPSHIFT_DEV_SCALE: `migrate-shard=${workers}` },
  });
  startedInMs = Date.now() - started;
});

after(async () => {
  await t?.stop();
});

/** Connections of upshift's processes now to the run's control store and shop database, by application (the test's own clients left out). */
async function connections(admin: pg.Client, databases: readonly string[]): Promise<{ total: number; byApp: Record<string, number> }> {
  const { rows: found } = await admin.query<{ app: string; n: number }>(
    `SELECT application_name AS app, count(*)::int AS n FROM pg_stat_activity WHERE datname = ANY($1) AND application_name LIKE 'upshift%' GROUP BY 1`, [databases]);
  const byApp = Object.fromEntries(found.map((r) => [r.app, r.n]));
  return { total: found.reduce((sum, r) => sum + r.n, 0), byApp };
}

test(`${workers} migrate-shard instances and the other functions stay within the stated connection budget`, { timeout: 240_000 }, async () => {
  console.log(`${workers + 3} instances started in ${startedInMs} ms`);
  assert.equal(instancesOf(t.harness.dev.functions, 'migrate-shard').length, workers);
  const admin = new pg.Client({ connectionString: t.harness.env['POSTGRES_ADMIN_URL'] });
  await admin.connect();
  const databases = [new URL(t.harness.databaseUrl).pathname.slice(1), new URL(t.shopUrl).pathname.slice(1)];
  const { rows: [setting] } = await admin.query<{ max: number }>(`SELECT current_setting('max_connections')::int AS max`);
  const max = setting?.max ?? 0;
  let peak = { total: 0, byApp: {} as Record<string, number> };
  let sampling = true;
  try {
    await seedCountedOrders(t.shop, rows, 2);
    const expected = await expectedOrdersChecksum(t.shop);
    const atRest = await connections(admin, databases);
    const sampler = (async () => {
      while (sampling) {
        const now = await connections(admin, databases);
        if (now.total > peak.total) peak = now;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    const runStarted = Date.now();
    const run = await requestOrdersRun(t, shards, 20);
    let end;
    try {
      end = await t.harness.waitFor(run.runId, [...runEnds], 150_000);
    } finally {
      sampling = false;
      await sampler;
      await run.remove();
    }
    const { total, perMigrateShard } = budget();
    console.log(`run of ${shards} shards: ${end.type} in ${Date.now() - runStarted} ms; max_connections ${max}; budget ${total} (${perMigrateShard} per migrate-shard instance); at rest ${atRest.total} ${JSON.stringify(atRest.byApp)}; peak under load ${peak.total} ${JSON.stringify(peak.byApp)}`);
    assert.ok(isEventOf(end, 'upgrade.completed'), `${end.type}: ${JSON.stringify(end.data)}`);
    assert.deepEqual(migrationsOf(end), [['orders-currency@1', shards, rows]]);
    assert.equal(await migratedOrdersChecksum(t.shop), expected);
    assert.ok(total < max, `the budget (${total}) fits max_connections (${max})`);
    assert.ok(peak.total <= total, `peak ${peak.total} within the budget ${total}`);
    const instances = workers + 3;
    assert.ok((atRest.byApp['upshift-relay'] ?? 0) <= instances, `at rest: one LISTEN connection per instance: ${atRest.byApp['upshift-relay']}`);
    assert.ok(atRest.total <= 3 * instances, `at rest at most 3 per instance (the LISTEN connection and one or two pooled): ${atRest.total}`);
    assert.ok((peak.byApp['upshift-migrate-shard'] ?? 0) <= workers * controlPoolMax(1), 'migrate-shard control pools within their max');
    assert.deepEqual(refusals, [], 'no connection was refused');
    assert.deepEqual(tally.deadLetters, []);
  } finally {
    sampling = false;
    await admin.end();
  }
});
