/**
 * One migration of more shards than the v1 events carry (issue 18): 4,200 shards of two rows each on the
 * real stack. plan announces the run with `upgrade.planned.v2`, rollout asks for the data with
 * `migration.requested.v2`, migrate-shard fans it out, and the run completes with every shard counted
 * once. The 10,000-shard figures come from `bench/src/many-shards.ts`.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { isEventOf } from '@upshift/events';
import { freshNamespace, privateKubeconfig } from '../support/kube.ts';
import { publishManyShardsRun, startManyShards, type ManyShards } from '../support/many-shards.ts';

const shards = 4200;
let run: ManyShards;
let kubeconfig: ReturnType<typeof privateKubeconfig>;

before(async () => {
  kubeconfig = privateKubeconfig();
  run = await startManyShards(1);
});

after(async () => {
  await run?.stop();
  kubeconfig?.remove();
});

test(`one migration of ${shards} shards (over the v1 events' 4,096) completes, announced by the v2 events`, { timeout: 330_000 }, async () => {
  const ns = await freshNamespace('one-migration');
  try {
    const { t, refs: [ref], tables: [table] } = run;
    const { runId } = await publishManyShardsRun(run, ns.name, [shards]);
    const end = await t.harness.waitFor(runId, ['upgrade.completed', 'upgrade.failed', 'upgrade.rolled-back', 'upgrade.rejected'], 300_000);
    assert.ok(isEventOf(end, 'upgrade.completed'), `${end.type}: ${JSON.stringify(end.data).slice(0, 500)}`);
    assert.deepEqual(end.data.migrations, [{ ref, shards, rowsMigrated: shards * 2 }]);

    const planned = t.harness.eventsOf(runId).find((e) => isEventOf(e, 'upgrade.planned'));
    assert.equal(planned?.type, 'dev.upshift.upgrade.planned.v2');
    assert.ok(planned && isEventOf(planned, 'upgrade.planned') && planned.data.migrations[0]?.shards === shards);
    const { rows: handled } = await t.control.query<{ type: string }>(
      `SELECT i.type FROM upshift.inbox i JOIN upshift.outbox o ON o.source = i.source AND o.id = i.id
        WHERE i.consumer = 'migrate-shard' AND i.type LIKE 'dev.upshift.migration.requested.%' AND o.event->'data'->>'runId' = $1`, [runId]);
    assert.deepEqual(handled.map((r) => r.type), ['dev.upshift.migration.requested.v2'], 'migrate-shard handled the v2 request once');
    const { rows: fanned } = await t.control.query<{ kind: string; shards: number; failed: number }>(
      `SELECT kind, sum(shards)::integer AS shards, sum(failed)::integer AS failed FROM upshift.shard_tallies WHERE run_id = $1 GROUP BY kind ORDER BY kind`, [runId]);
    assert.deepEqual(fanned.map((r) => [r.kind, r.shards, r.failed]), [['fanin', shards, 0], ['shard', shards, 0]], 'each shard counted once at fan-out and once at fan-in');
    const { rows: left } = await t.shop.query<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE schema_version <> 2`);
    assert.equal(Number(left[0]?.n), 0, 'every row migrated');
  } finally {
    await ns.remove();
  }
});
