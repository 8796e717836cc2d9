/**
 * A run of many small shards on the real stack (issue 18, bounded: 300 shards of two rows): it completes
 * with every shard counted once, the fan-in and progress tallies agree with the shard steps, and
 * `upshift status` summarises the shards (counts by status) instead of listing each, unless asked to.
 * The 10,000-shard figures come from `bench/src/many-shards.ts`.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { isEventOf } from '@upshift/events';
import pg from 'pg';
import { privateKubeconfig, freshNamespace } from './support/kube.ts';
import { publishManyShardsRun, startManyShards, upshiftStatus, type ManyShards } from './support/many-shards.ts';

const shards = 300;
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

test(`a run of ${shards} shards completes, its tallies agree with its steps, and status summarises the shards`, { timeout: 240_000 }, async () => {
  const ns = await freshNamespace('many');
  try {
    const { t, refs: [ref], tables: [table] } = run;
    const { runId } = await publishManyShardsRun(run, ns.name, [shards]);
    const end = await t.harness.waitFor(runId, ['upgrade.completed', 'upgrade.failed', 'upgrade.rolled-back', 'upgrade.rejected'], 200_000);
    assert.ok(isEventOf(end, 'upgrade.completed'), `${end.type}: ${JSON.stringify(end.data).slice(0, 500)}`);
    assert.deepEqual(end.data.migrations, [{ ref, shards, rowsMigrated: shards * 2 }]);
    const { rows: left } = await t.shop.query<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE schema_version <> 2`);
    assert.equal(Number(left[0]?.n), 0, 'every row migrated');

    const control = new pg.Client({ connectionString: t.harness.databaseUrl });
    await control.connect();
    try {
      const { rows: tallies } = await control.query<{ kind: string; shards: number; failed: number; rows: string; done: number; share: number }>(
        `SELECT kind, sum(shards)::integer AS shards, sum(failed)::integer AS failed, sum(rows) AS rows, sum(done)::integer AS done, sum(share) AS share
           FROM upshift.shard_tallies WHERE run_id = $1 GROUP BY kind ORDER BY kind`, [runId]);
      assert.deepEqual(tallies.map((r) => [r.kind, r.shards, r.failed]), [['fanin', shards, 0], ['shard', shards, 0]], 'each shard counted once at fan-out and once at fan-in');
      const planned = tallies.find((r) => r.kind === 'shard')!;
      assert.deepEqual([planned.done, Number(planned.rows), Math.round(planned.share)], [shards, shards * 2, shards], 'progress counted every shard in once, whole');
    } finally {
      await control.end();
    }

    const summary = await upshiftStatus([runId], t.harness.databaseUrl);
    assert.match(summary.stdout, new RegExp(`shards: ${shards} \\(completed ${shards}\\)`));
    assert.match(summary.stdout, new RegExp(`recorded final by verify: ${shards} \\(completed ${shards}\\)`));
    assert.ok(summary.stdout.split('\n').length < 80, `a summary, not a line per shard (${summary.stdout.split('\n').length} lines)`);
    const all = await upshiftStatus([runId, '--shards', 'all'], t.harness.databaseUrl);
    assert.ok(all.stdout.split('\n').length > 2 * shards, 'every shard step listed when asked');
  } finally {
    await ns.remove();
  }
});
