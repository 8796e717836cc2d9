/**
 * A frozen run on the real stack (plan, rollout and verify under `upshift dev`, Kafka, PostgreSQL, a
 * kwok cluster): two services in two waves under `failurePolicy: freeze`, where wave 2's pods never get
 * ready (the stack's failure label). The run freezes at wave 2 with wave 1 kept. An operator fixes the
 * workload and retries wave 2 (`upshift retry --wave 2`): the run goes on and completes. In the second
 * run the operator rolls the frozen run back instead (`upshift rollback`): both waves go back to their
 * old images. Controls a frozen run does not take are answered with what it takes.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { isEventOf } from '@upshift/events';
import { publishControl, runCli } from './support/controls.ts';
import { frozenAtWave2, frozenCluster as cluster, frozenImage as v, setFailing } from './support/frozen.ts';
import { freshNamespace, privateKubeconfig, running } from './support/kube.ts';
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

test('a run frozen at a failed wave goes on from that wave when the operator retries it, and completes', { timeout: 180_000 }, async () => {
  const ns = await freshNamespace('frozen');
  try {
    const runId = await frozenAtWave2(harness, ns.name);
    const pause = await publishControl(harness, 'test@frozen', runId, 'pause');
    assert.deepEqual([pause.outcome, pause.message], ['ignored', 'ignored: the run is frozen: `retry` the wave or shard it stopped at to go on, or `abort` to roll it back']);
    const wrongWave = await publishControl(harness, 'test@frozen', runId, 'retry', { target: { kind: 'wave', wave: 0 } });
    assert.deepEqual([wrongWave.outcome, wrongWave.message], ['ignored', 'ignored: wave 1 completed; retry the wave the run stopped at']);

    await setFailing(ns.name, 'api', false);
    const retried = await runCli(harness, ['retry', runId, '--wave', '2', '--wait', '--as', 'test@frozen', '--reason', 'label fixed'], { kafka: true });
    assert.match(retried.stdout, /retry applied \(asked by test@frozen\): the frozen run goes on: wave 2 rolls out again/, retried.stdout);
    const end = await harness.waitFor(runId, ['upgrade.completed', 'upgrade.rolled-back'], 90_000);
    assert.ok(isEventOf(end, 'upgrade.completed'), `${end.type}: ${JSON.stringify(end.data)}`);
    assert.equal((await running(cluster, ns.name, 'api')).image, v('api', '2.0.0'));
    const waveRequests = harness.eventsOf(runId).filter((e) => e.type.includes('rollout.wave.completed')).map((e) => (e.data as { wave: number }).wave);
    assert.deepEqual(waveRequests.sort(), [0, 1], 'each wave completed once: wave 1 was not run again');
    const again = await publishControl(harness, 'test@frozen', runId, 'retry', { target: { kind: 'wave', wave: 1 } });
    assert.deepEqual([again.outcome, again.message], ['ignored', 'ignored: the run has ended (completed)']);
  } finally {
    await ns.remove();
  }
});

test('a frozen run rolls back when the operator asks (upshift rollback): every wave goes back to its old image', { timeout: 180_000 }, async () => {
  const ns = await freshNamespace('frozen');
  try {
    const runId = await frozenAtWave2(harness, ns.name);
    await setFailing(ns.name, 'api', false);
    const rolled = await runCli(harness, ['rollback', runId, '--wait', '--as', 'test@frozen'], { kafka: true });
    assert.match(rolled.stdout, /abort applied \(asked by test@frozen\): rolling back the frozen run, as test@frozen asked/, rolled.stdout);
    const end = await harness.waitFor(runId, ['upgrade.rolled-back', 'upgrade.completed'], 90_000);
    assert.ok(isEventOf(end, 'upgrade.rolled-back'), `${end.type}: ${JSON.stringify(end.data)}`);
    assert.match(end.data.reason, /^rolled back by test@frozen after the freeze: frozen as the policy asks/);
    assert.equal(end.data.revertedWorkloads, 2);
    assert.equal((await running(cluster, ns.name, 'db')).image, v('db', '1.0.0'));
    assert.equal((await running(cluster, ns.name, 'api')).image, v('api', '1.0.0'));
  } finally {
    await ns.remove();
  }
});
