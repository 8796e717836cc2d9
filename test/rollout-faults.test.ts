/**
 * rollout under faults, on the real clusters: every event delivered twice, the rollout process killed
 * (SIGKILL) in the middle of a wave and started again, and a second run for a workload an active run holds.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { isEventOf } from '@upshift/events';
import { clusterNames, deploy, deployment, freshNamespace, kube, privateKubeconfig, running, waitAvailable } from './support/kube.ts';
import { testPolicy } from './support/policy.ts';
import { startHarness, type Harness } from './support/run.ts';

let harness: Harness;
let kubeconfig: ReturnType<typeof privateKubeconfig>;

before(async () => {
  kubeconfig = privateKubeconfig();
  // rollout runs as its own process (like a pod) so the test can kill it; every event is delivered twice.
  harness = await startHarness(['plan', 'rollout'], { duplicate: true, mode: 'process' });
});

after(async () => {
  await harness?.stop();
  kubeconfig?.remove();
});

const v = (service: string, version: string) => `registry.local/it/${service}:${version}`;

test('every event delivered twice and rollout killed mid-wave: same end state, each workload patched once', { timeout: 300_000 }, async () => {
  const ns = await freshNamespace('kill');
  try {
    const names = ['api', 'web'];
    for (const cluster of clusterNames) await deploy(cluster, ns.name, names.map((n) => deployment(n, v(n, '1.0.0'), { replicas: 4 })));
    const policy = testPolicy(ns.name, [{ name: 'api', image: v('api', '2.0.0') }, { name: 'web', image: v('web', '2.0.0'), dependsOn: ['api'] }]);
    const runId = await harness.request(policy, undefined, 2);
    await killRolloutMidWave(ns.name);
    const verify = await waitForStage(runId);
    assert.ok(verify, 'the run went on to verification');
    for (const cluster of clusterNames) {
      for (const name of names) {
        const now = await running(cluster, ns.name, name);
        assert.equal(now.image, v(name, '2.0.0'), `${name} in ${cluster}`);
        assert.equal(now.generation, 2, `${name} in ${cluster}: created once, patched once`);
        await waitAvailable(cluster, ns.name, name);
      }
    }
    const lifecycle = harness.eventsOf(runId);
    const distinct = (type: string) => new Set(lifecycle.filter((e) => e.type === type).map((e) => `${e.source} ${e.id}`)).size;
    assert.equal(distinct('dev.upshift.upgrade.planned.v1'), 1, 'one plan');
    assert.equal(distinct('dev.upshift.rollout.wave.completed.v1'), 4, 'one completion per wave (2 services x 2 clusters)');
    assert.equal(distinct('dev.upshift.rollout.wave.failed.v1'), 0);
  } finally {
    await ns.remove();
  }
});

/** Waits until the canary's api Deployment has the new image but has not rolled out yet, then SIGKILLs rollout; the dev runner starts a new one. */
async function killRolloutMidWave(namespace: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const d = await kube('upshift-a').apps.readNamespacedDeployment({ name: 'api', namespace });
    // Patched but not yet rolled out: rollout is watching the wave.
    const patched = d.spec?.template.spec?.containers[0]?.image === v('api', '2.0.0');
    const done = (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) && d.status?.availableReplicas === 4 && d.status?.updatedReplicas === 4;
    if (patched && !done) break;
    if (patched) throw new Error('the wave finished before the test could kill rollout; make the wave slower');
    if (Date.now() > deadline) throw new Error('the wave never started');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const rollout = harness.dev.functions.find((fn) => fn.name === 'rollout');
  const victim = rollout?.child;
  assert.ok(rollout && victim, 'rollout runs as a child process');
  victim.kill('SIGKILL');
  // upshift dev restarts a crashed function on the same port, as Kubernetes restarts a pod.
  const restartBy = Date.now() + 30_000;
  while (rollout.child === victim && Date.now() < restartBy) await new Promise((resolve) => setTimeout(resolve, 100));
  assert.notEqual(rollout.child, victim, 'rollout was restarted');
}

async function waitForStage(runId: string): Promise<boolean> {
  const deadline = Date.now() + 240_000;
  while (Date.now() < deadline) {
    const completions = harness.eventsOf(runId).filter((e) => isEventOf(e, 'rollout.wave.completed'));
    if (completions.some((e) => isEventOf(e, 'rollout.wave.completed') && e.data.wave === e.data.waves - 1)) return true;
    if (harness.eventsOf(runId).some((e) => e.type.includes('failed') || e.type.includes('rolled-back'))) return false;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return false;
}

test('a second run for a workload that an active run holds is rejected naming that run; the same request twice is one run', { timeout: 180_000 }, async () => {
  const ns = await freshNamespace('busy');
  try {
    for (const cluster of clusterNames) await deploy(cluster, ns.name, [deployment('web', v('web', '1.0.0'), { progressDeadlineSeconds: 600 })]);
    // The first run's image never becomes ready, so it stays active (watching) for the whole test.
    const first = await harness.request(testPolicy(ns.name, [{ name: 'web', image: v('web', '2.0.0-fail') }], { progressDeadlineSeconds: 600 }), undefined, 2);
    await harness.waitFor(first, ['upgrade.planned']);
    const again = await harness.request(testPolicy(ns.name, [{ name: 'web', image: v('web', '2.0.0-fail') }], { progressDeadlineSeconds: 600 }), first);
    assert.equal(again, first);
    const second = await harness.request(testPolicy(ns.name, [{ name: 'web', image: v('web', '3.0.0') }]));
    const rejected = await harness.waitFor(second, ['upgrade.rejected', 'upgrade.planned']);
    assert.ok(isEventOf(rejected, 'upgrade.rejected'), rejected.type);
    assert.equal(rejected.data.code, 'target-busy');
    assert.match(rejected.data.reason, new RegExp(first));
    assert.ok(rejected.data.problems.some((p) => p.message === `workload upshift-a/${ns.name}/Deployment/web is held by active run ${first}`), JSON.stringify(rejected.data.problems));
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const plans = new Set(harness.eventsOf(first).filter((e) => isEventOf(e, 'upgrade.planned')).map((e) => e.id));
    assert.equal(plans.size, 1, 'the same request (same event twice, then the same run id again) planned one run');
  } finally {
    await ns.remove();
  }
});
