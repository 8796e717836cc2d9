/**
 * plan + rollout (+ verify) on the two real clusters (kwok nodes), through Kafka and the dispatcher: dependency
 * order across clusters, failing images with rollback and freeze, redelivery and a killed rollout.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { isEventOf } from '@upshift/events';
import { clusterNames, deploy, deployment, freshNamespace, limitedContext, privateKubeconfig, running, unreachableContext, waitAvailable } from './support/kube.ts';
import { testPolicy } from './support/policy.ts';
import { startHarness, type Harness } from './support/run.ts';

let harness: Harness;
let kubeconfig: ReturnType<typeof privateKubeconfig>;

before(async () => {
  kubeconfig = privateKubeconfig();
  harness = await startHarness(['plan', 'rollout', 'verify']);
});

after(async () => {
  await harness?.stop();
  kubeconfig?.remove();
});

const v = (service: string, version: string) => `registry.local/it/${service}:${version}`;

async function stepTimes(runId: string) {
  const client = new pg.Client({ connectionString: harness.databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ key: string; started_at: Date; finished_at: Date; checkpoint: { succeededAt?: number } | null; plan: { waves: Array<{ index: number; targets: Array<{ service: string; cluster: string }> }> } }>(
      `SELECT s.key, s.started_at, s.finished_at, s.checkpoint, r.plan FROM upshift.steps s JOIN upshift.runs r ON r.id = s.run_id WHERE s.run_id = $1 AND s.kind = 'wave'`, [runId]);
    const times = new Map<string, { start: number; end: number; succeededAt: number | undefined }>();
    for (const row of rows) {
      for (const t of row.plan.waves[Number(row.key)]?.targets ?? []) times.set(`${t.service}@${t.cluster}`, { start: row.started_at.getTime(), end: row.finished_at.getTime(), succeededAt: row.checkpoint?.succeededAt });
    }
    return times;
  } finally {
    await client.end();
  }
}

test('4 services over both clusters roll out in dependency order, canary cluster first, each wave soaking', { timeout: 240_000 }, async () => {
  const ns = await freshNamespace('order');
  try {
    const names = ['db', 'api', 'web', 'worker'];
    for (const cluster of clusterNames) await deploy(cluster, ns.name, names.map((n) => deployment(n, v(n, '1.0.0'))));
    const policy = testPolicy(ns.name, [
      { name: 'db', image: v('db', '2.0.0') },
      { name: 'api', image: v('api', '2.0.0'), dependsOn: ['db'] },
      { name: 'web', image: v('web', '2.0.0'), dependsOn: ['api'] },
      { name: 'worker', image: v('worker', '2.0.0'), dependsOn: ['db'] },
    ], { soakSeconds: 1 });
    const runId = await harness.request(policy);
    const planned = await harness.waitFor(runId, ['upgrade.planned', 'upgrade.rejected']);
    assert.equal(planned.type, 'dev.upshift.upgrade.planned.v1', JSON.stringify(planned.data));
    const end = await harness.waitFor(runId, ['upgrade.completed', 'upgrade.failed', 'upgrade.rolled-back'], 180_000);
    assert.ok(isEventOf(end, 'upgrade.completed'), `${end.type}: ${JSON.stringify(end.data)}`);
    assert.equal(end.data.services.length, 8);
    assert.ok(end.data.services.every((s) => s.image === v(s.service, '2.0.0')));
    const results = harness.eventsOf(runId).find((e) => isEventOf(e, 'verify.results'));
    assert.ok(results && isEventOf(results, 'verify.results') && results.data.passed, 'verify passed');
    for (const cluster of clusterNames) {
      for (const name of names) {
        const now = await running(cluster, ns.name, name);
        assert.equal(now.image, v(name, '2.0.0'), `${name} in ${cluster}`);
        assert.equal(now.annotations['upshift.dev/run-id'], runId);
        assert.equal(now.annotations['upshift.dev/previous-image'], v(name, '1.0.0'));
        await waitAvailable(cluster, ns.name, name);
      }
    }
    const times = await stepTimes(runId);
    const at = (s: string, c: string) => times.get(`${s}@${c}`) ?? assert.fail(`no wave for ${s}@${c}`);
    for (const [dependent, dependency] of [['api', 'db'], ['web', 'api'], ['worker', 'db']] as const) {
      for (const c of clusterNames) assert.ok(at(dependency, c).end <= at(dependent, c).start, `${dependency} done in ${c} before ${dependent} starts`);
    }
    for (const name of names) assert.ok(at(name, 'upshift-a').end <= at(name, 'upshift-b').start, `${name}: canary finished before upshift-b started`);
    for (const [key, span] of times) {
      assert.ok(span.succeededAt !== undefined && span.end - span.succeededAt >= 1000, `${key}: the wave soaked 1 s after it was first available`);
    }
  } finally {
    await ns.remove();
  }
});

for (const failurePolicy of ['rollback', 'freeze'] as const) {
  test(`a target whose pods fail: the wave fails naming the workload; ${failurePolicy}`, { timeout: 240_000 }, async () => {
    const ns = await freshNamespace(failurePolicy);
    try {
      // The stack's kwok keeps pods of an image tagged *-fail Running but never Ready (stack/README.md).
      for (const cluster of clusterNames) await deploy(cluster, ns.name, [deployment('base', v('base', '1.0.0')), deployment('front', v('front', '1.0.0'), { progressDeadlineSeconds: 8 })]);
      const policy = testPolicy(ns.name, [
        { name: 'base', image: v('base', '2.0.0') },
        { name: 'front', image: v('front', '2.0.0-fail'), dependsOn: ['base'] },
      ], { failurePolicy, progressDeadlineSeconds: 30 });
      const runId = await harness.request(policy);
      const failed = await harness.waitFor(runId, ['rollout.wave.failed'], 180_000);
      assert.match(JSON.stringify(failed.data), /front in upshift-a/);
      assert.match((failed.data as { reason: string }).reason, /front .*(progress deadline|not available)/);
      if (failurePolicy === 'rollback') {
        const end = await harness.waitFor(runId, ['upgrade.rolled-back', 'upgrade.failed'], 180_000);
        assert.equal(end.type, 'dev.upshift.upgrade.rolled-back.v1', JSON.stringify(end.data));
        assert.equal((end.data as { revertedWorkloads: number }).revertedWorkloads, 3, 'base in both clusters and front in the canary');
        for (const cluster of clusterNames) {
          assert.equal((await running(cluster, ns.name, 'base')).image, v('base', '1.0.0'), `base back in ${cluster}`);
          await waitAvailable(cluster, ns.name, 'base');
        }
        assert.equal((await running('upshift-a', ns.name, 'front')).image, v('front', '1.0.0'));
        assert.equal((await running('upshift-b', ns.name, 'front')).image, v('front', '1.0.0'), 'never touched');
      } else {
        const end = await harness.waitFor(runId, ['upgrade.failed', 'upgrade.rolled-back'], 60_000);
        assert.equal(end.type, 'dev.upshift.upgrade.failed.v1');
        assert.deepEqual([(end.data as { frozen: boolean }).frozen, (end.data as { failurePolicy: string }).failurePolicy], [true, 'freeze']);
        assert.match((end.data as { reason: string }).reason, /frozen/);
        for (const cluster of clusterNames) assert.equal((await running(cluster, ns.name, 'base')).image, v('base', '2.0.0'), `base left at target in ${cluster}`);
        assert.equal((await running('upshift-a', ns.name, 'front')).image, v('front', '2.0.0-fail'), 'failed workload left as is');
        assert.equal((await running('upshift-b', ns.name, 'front')).image, v('front', '1.0.0'));
      }
    } finally {
      await ns.remove();
    }
  });
}

test('dry run: upgrade.planned says what would change, and no workload changes', { timeout: 120_000 }, async () => {
  const ns = await freshNamespace('dry');
  try {
    for (const cluster of clusterNames) await deploy(cluster, ns.name, [deployment('web', v('web', '1.0.0'))]);
    const runId = await harness.request(testPolicy(ns.name, [{ name: 'web', image: v('web', '2.0.0') }], { dryRun: true }));
    const planned = await harness.waitFor(runId, ['upgrade.planned', 'upgrade.rejected']);
    assert.ok(isEventOf(planned, 'upgrade.planned'), planned.type);
    const data = planned.data;
    assert.equal(data.dryRun, true);
    assert.deepEqual(data.waves.map((w) => w.targets.map((t) => `${t.cluster}: ${t.previousImage} -> ${t.image}`)), [
      [`upshift-a: ${v('web', '1.0.0')} -> ${v('web', '2.0.0')}`], [`upshift-b: ${v('web', '1.0.0')} -> ${v('web', '2.0.0')}`],
    ]);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    assert.deepEqual(harness.eventsOf(runId).map((e) => e.type), ['dev.upshift.upgrade.planned.v1'], 'nothing after the plan');
    for (const cluster of clusterNames) {
      const now = await running(cluster, ns.name, 'web');
      assert.deepEqual([now.image, now.generation], [v('web', '1.0.0'), 1], `untouched in ${cluster}`);
    }
  } finally {
    await ns.remove();
  }
});

test('preflight: a missing workload, an unreachable cluster and a credential without patch rights are all reported, nothing changes', { timeout: 120_000 }, async () => {
  const ns = await freshNamespace('preflight');
  try {
    for (const cluster of clusterNames) await deploy(cluster, ns.name, [deployment('web', v('web', '1.0.0'))]);
    const limited = await limitedContext('upshift-a', ns.name);
    const gone = await unreachableContext();
    const policy = testPolicy(ns.name, [
      { name: 'web', image: v('web', '2.0.0'), clusters: ['limited', 'upshift-b'] },
      { name: 'ghost', image: v('ghost', '2.0.0'), clusters: ['upshift-b'] },
      { name: 'api', image: v('api', '2.0.0'), clusters: ['gone'] },
    ], { clusters: [{ name: 'limited', context: limited }, { name: 'upshift-b', context: 'upshift-b' }, { name: 'gone', context: gone }] });
    const runId = await harness.request(policy);
    const rejected = await harness.waitFor(runId, ['upgrade.rejected', 'upgrade.planned']);
    assert.ok(isEventOf(rejected, 'upgrade.rejected'), JSON.stringify(rejected.data));
    const data = rejected.data;
    assert.equal(data.code, 'preflight-failed');
    const messages = data.problems.map((p) => `${p.path}: ${p.message}`);
    const expect = [
      /^spec\.clusters\[2\]: cluster gone is unreachable: fetch failed: connect ECONNREFUSED 127\.0\.0\.1:\d+$/,
      new RegExp(`^spec\\.services\\[0\\]: rollout may not patch deployments in namespace ${ns.name} of cluster limited$`),
      new RegExp(`^spec\\.services\\[1\\]\\.workload: Deployment ${ns.name}/ghost in cluster upshift-b does not exist$`),
    ];
    assert.equal(messages.length, expect.length, messages.join('\n'));
    for (const pattern of expect) assert.ok(messages.some((m) => pattern.test(m)), `${pattern} in:\n${messages.join('\n')}`);
    for (const cluster of clusterNames) assert.equal((await running(cluster, ns.name, 'web')).generation, 1, `web untouched in ${cluster}`);
  } finally {
    await ns.remove();
  }
});
