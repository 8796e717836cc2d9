/**
 * Manual gates (`strategy.gates`) on the real stack (plan, rollout and verify under `upshift dev`, Kafka,
 * PostgreSQL, a kwok cluster): two services where one depends on the other (two waves) and a gate before
 * wave 2. The run completes wave 1 and waits: wave 2's workload keeps its old image, `upshift status`
 * shows the gate, a resume (of a paused run too) does not pass it, a promote of another wave is refused, `upshift promote`
 * passes it and the run completes. A gate before wave 1 holds the whole rollout. A gate beyond the last wave is refused by plan with its path.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { isEventOf } from '@upshift/events';
import { until } from './faults/shard-run.ts';
import { publishControl, runCli } from './support/controls.ts';
import { deploy, deployment, freshNamespace, privateKubeconfig, running } from './support/kube.ts';
import { testPolicy } from './support/policy.ts';
import { startHarness, type Harness } from './support/run.ts';

const clusters = [{ name: 'upshift-a', context: 'upshift-a' }];
const v = (service: string, version: string) => `registry.local/gates/${service}:${version}`;
let harness: Harness;
let kubeconfig: ReturnType<typeof privateKubeconfig>;
let control: pg.Client;

before(async () => {
  kubeconfig = privateKubeconfig();
  harness = await startHarness(['plan', 'rollout', 'verify']);
  control = new pg.Client({ connectionString: harness.databaseUrl });
  await control.connect();
});

after(async () => {
  await control?.end();
  await harness?.stop();
  kubeconfig?.remove();
});

async function gateWave(runId: string): Promise<number | null | undefined> {
  const { rows } = await control.query<{ gate_wave: number | null }>('SELECT gate_wave FROM upshift.run_controls WHERE run_id = $1', [runId]);
  return rows[0]?.gate_wave;
}

test('a run waits at its gate before wave 2: a resume does not pass it, promote does, and the run completes', { timeout: 60_000 }, async () => {
  const ns = await freshNamespace('gates');
  try {
    await deploy('upshift-a', ns.name, [deployment('db', v('db', '1.0.0')), deployment('api', v('api', '1.0.0'))]);
    const policy = testPolicy(ns.name, [{ name: 'db', image: v('db', '2.0.0') }, { name: 'api', image: v('api', '2.0.0'), dependsOn: ['db'] }], { clusters });
    const runId = await harness.request({ ...policy, spec: { ...policy.spec, strategy: { ...policy.spec.strategy, gates: [{ beforeWave: 2 }] } } });
    await until(async () => ((await gateWave(runId)) === 1 ? true : undefined), 30_000, 'the run never reached the gate before wave 2');
    assert.equal((await running('upshift-a', ns.name, 'db')).image, v('db', '2.0.0'), 'wave 1 rolled out before the gate');
    // The gate row can be visible before wave 1's completion event has been relayed to Kafka and collected.
    const waveDone = await harness.waitFor(runId, ['rollout.wave.completed'], 10_000);
    assert.ok(isEventOf(waveDone, 'rollout.wave.completed') && waveDone.data.wave === 0, 'wave 1 completed');
    await new Promise((resolve) => setTimeout(resolve, 3000));
    assert.equal((await running('upshift-a', ns.name, 'api')).image, v('api', '1.0.0'), 'wave 2 waits at its gate');
    const status = await runCli(harness, ['status', runId, '--database-url', harness.databaseUrl]);
    assert.match(status.stdout, /^ {2}waiting at the gate before wave 2 \(promote to continue\)/m, status.stdout);

    const resume = await publishControl(harness, 'test@gates', runId, 'resume');
    assert.equal(resume.outcome, 'ignored', resume.message);
    const pause = await publishControl(harness, 'test@gates', runId, 'pause');
    assert.equal(pause.outcome, 'applied', pause.message);
    const resumed = await publishControl(harness, 'test@gates', runId, 'resume');
    assert.equal(resumed.outcome, 'applied', resumed.message);
    assert.match(resumed.message, /wave 2 still waits at its gate/);
    const { rows: held } = await control.query<{ n: number }>('SELECT count(*)::int AS n FROM upshift.held_events WHERE run_id = $1', [runId]);
    assert.equal(held[0]?.n, 1, 'the resume released everything but the gated wave\'s request');
    const wrongWave = await publishControl(harness, 'test@gates', runId, 'promote', { target: { kind: 'wave', wave: 0 } });
    assert.equal(wrongWave.outcome, 'ignored');
    assert.match(wrongWave.message, /the gate is before wave 2, not 1/);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal((await running('upshift-a', ns.name, 'api')).image, v('api', '1.0.0'), 'neither a resume nor a promote of another wave passes the gate');
    assert.equal(await gateWave(runId), 1);

    const promoted = await runCli(harness, ['promote', runId, '--wave', '2', '--wait', '--as', 'test@gates'], { kafka: true });
    assert.match(promoted.stdout, /promote applied \(asked by test@gates\): promoted by test@gates: wave 2 starts/, promoted.stdout);
    const end = await harness.waitFor(runId, ['upgrade.completed', 'upgrade.failed', 'upgrade.rolled-back'], 40_000);
    assert.ok(isEventOf(end, 'upgrade.completed'), `${end.type}: ${JSON.stringify(end.data)}`);
    assert.equal((await running('upshift-a', ns.name, 'api')).image, v('api', '2.0.0'));
    assert.equal(await gateWave(runId), null);
    const { rows: gate } = await control.query<{ status: string }>(`SELECT status FROM upshift.steps WHERE run_id = $1 AND kind = 'once' AND key = 'gate-1'`, [runId]);
    assert.deepEqual(gate.map((g) => g.status), ['completed'], 'the passed gate is done');
    const again = await publishControl(harness, 'test@gates', runId, 'promote');
    assert.equal(again.outcome, 'ignored');
  } finally {
    await ns.remove();
  }
});

test('a gate before wave 1 holds the whole rollout until the promote', { timeout: 60_000 }, async () => {
  const ns = await freshNamespace('gates');
  try {
    await deploy('upshift-a', ns.name, [deployment('db', v('db', '1.0.0'))]);
    const policy = testPolicy(ns.name, [{ name: 'db', image: v('db', '2.0.0') }], { clusters });
    const runId = await harness.request({ ...policy, spec: { ...policy.spec, strategy: { ...policy.spec.strategy, gates: [{ beforeWave: 1 }] } } });
    await until(async () => ((await gateWave(runId)) === 0 ? true : undefined), 30_000, 'the run never reached the gate before wave 1');
    await new Promise((resolve) => setTimeout(resolve, 2000));
    assert.equal((await running('upshift-a', ns.name, 'db')).image, v('db', '1.0.0'), 'nothing rolls out before the promote');
    assert.ok(!harness.eventsOf(runId).some((e) => isEventOf(e, 'rollout.wave.completed')), 'no wave completed');
    const promoted = await publishControl(harness, 'test@gates', runId, 'promote', { target: { kind: 'wave', wave: 0 } });
    assert.equal(promoted.outcome, 'applied', promoted.message);
    const end = await harness.waitFor(runId, ['upgrade.completed', 'upgrade.failed', 'upgrade.rolled-back'], 40_000);
    assert.ok(isEventOf(end, 'upgrade.completed'), `${end.type}: ${JSON.stringify(end.data)}`);
    assert.equal((await running('upshift-a', ns.name, 'db')).image, v('db', '2.0.0'));
  } finally {
    await ns.remove();
  }
});

test('a gate beyond the last wave is refused by plan, naming the gate', { timeout: 30_000 }, async () => {
  const ns = await freshNamespace('gates');
  try {
    await deploy('upshift-a', ns.name, [deployment('db', v('db', '1.0.0'))]);
    const policy = testPolicy(ns.name, [{ name: 'db', image: v('db', '2.0.0') }], { clusters });
    const runId = await harness.request({ ...policy, spec: { ...policy.spec, strategy: { ...policy.spec.strategy, gates: [{ beforeWave: 1 }, { beforeWave: 2 }] } } });
    const answer = await harness.waitFor(runId, ['upgrade.planned', 'upgrade.rejected'], 20_000);
    assert.ok(isEventOf(answer, 'upgrade.rejected'), `${answer.type}: ${JSON.stringify(answer.data)}`);
    assert.equal(answer.data.code, 'invalid-policy');
    assert.deepEqual(answer.data.problems.map((p) => p.path), ['spec.strategy.gates[1].beforeWave']);
    assert.equal((await running('upshift-a', ns.name, 'db')).image, v('db', '1.0.0'));
  } finally {
    await ns.remove();
  }
});
