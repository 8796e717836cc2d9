/**
 * rollout's handler as Knative runs it (`init`, then `handle(context, event)`), on fixture
 * `rollout.wave.requested` events for a run whose plan is in the control store and whose workloads run
 * in the stack's kwok clusters: the image patched, continuations until the wave is available, then the
 * next wave; a wave whose workload is missing fails and starts the image revert; a redelivery that
 * patches and emits nothing new.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fixture, isEventOf, uuidv7, waveRequest, type AnyUpshiftEvent, type RunPlan } from '@upshift/events';
import { claimDetail, readRunFacts, savePlan, startRun, viewSteps, withTransaction, type HandleResult } from '@upshift/runtime';
import fn from '../src/index.ts';
import { fixtureEvent, startFunction, useStackKubeconfig, type FunctionUnderTest } from '../../../test/support/handler.ts';
import { deploy, deployment, freshNamespace, running } from '../../../test/support/kube.ts';

const image = (service: string, version: string) => `registry.local/handler/${service}:${version}`;

let t: FunctionUnderTest;
let ns: Awaited<ReturnType<typeof freshNamespace>>;

before(async () => {
  useStackKubeconfig();
  ns = await freshNamespace('rollout-handler');
  for (const cluster of ['upshift-a', 'upshift-b']) await deploy(cluster, ns.name, ['api', 'web'].map((s) => deployment(s, image(s, '1.0.0'), { replicas: 1 })));
  t = await startFunction(fn, { UPSHIFT_ROLLOUT_MAX_WAIT_MS: '500' });
});

after(async () => {
  await t?.stop();
  await ns?.remove();
});

/**
 * A run as plan leaves it: the run row and its plan, one wave per `service@cluster` entry, targets
 * shaped like the fixture plan's (container `app` in this test's namespace), failure policy rollback.
 */
async function seedRun(waves: string[][]): Promise<RunPlan> {
  const runId = uuidv7();
  const template = fixture('upgrade.planned').data.waves[0]?.targets[0];
  assert.ok(template, 'the fixture plan has a target');
  const plan: RunPlan = {
    runId, policyName: 'rollout-handler', dryRun: false, migrations: [],
    clusters: [{ name: 'upshift-a', context: 'upshift-a' }, { name: 'upshift-b', context: 'upshift-b' }],
    strategy: { maxParallelServices: 1, soakSeconds: 0, progressDeadlineSeconds: 60, failurePolicy: 'rollback', contract: false },
    waves: waves.map((targets, index) => ({
      index,
      targets: targets.map((at) => {
        const [service = '', cluster = ''] = at.split('@');
        return { ...template, service, cluster, namespace: ns.name, workload: { kind: 'Deployment' as const, name: service }, container: 'app', image: image(service, '2.0.0'), previousImage: image(service, '1.0.0') };
      }),
    })),
  };
  await withTransaction(t.store, async (tx) => {
    assert.ok(await startRun(tx, runId, { policy: { metadata: { name: plan.policyName } } }, []));
    await savePlan(tx, plan);
  });
  return plan;
}

/** The fixture `rollout.wave.requested` for wave `wave` of the plan. */
function waveRequested(plan: RunPlan, wave: number) {
  return fixtureEvent('rollout.wave.requested', () => {
    const request = waveRequest(plan, wave);
    assert.ok(request, `the plan has wave ${wave}`);
    return request;
  });
}

async function handled(event: unknown): Promise<{ result: HandleResult; outputs: AnyUpshiftEvent[] }> {
  const result = await t.handle(event);
  assert.equal(result.statusCode, 200, JSON.stringify(result.body));
  assert.equal(result.body['outcome'], 'handled', 'a first delivery is decided once, by its own handling');
  return { result, outputs: await t.outputsOf(result) };
}

test('a wave request patches the image, continues while it rolls out, then completes and requests the next wave', { timeout: 20_000 }, async () => {
  const plan = await seedRun([['api@upshift-a'], ['api@upshift-b']]);
  let { outputs } = await handled(waveRequested(plan, 0));

  const now = await running('upshift-a', ns.name, 'api');
  assert.equal(now.image, image('api', '2.0.0'), 'patched in the canary cluster');
  assert.equal(now.annotations['upshift.dev/run-id'], plan.runId);
  assert.equal(now.annotations['upshift.dev/previous-image'], image('api', '1.0.0'));
  assert.equal((await running('upshift-b', ns.name, 'api')).image, image('api', '1.0.0'), 'wave 1 is not touched yet');

  const checks: AnyUpshiftEvent[] = [];
  for (let next = outputs[0]; outputs.length === 1 && next && isEventOf(next, 'rollout.wave.check'); next = outputs[0]) {
    assert.equal(next.data.attempt, checks.length + 2, 'each continuation counts its attempt');
    const [step] = await viewSteps(t.store, plan.runId, 'wave');
    assert.equal(step?.status, 'running', 'the wave is running while it rolls out');
    assert.deepEqual((step?.checkpoint as { patched?: string[] }).patched, ['api@upshift-a']);
    assert.ok(checks.push(next) < 30, 'the wave completes within 30 looks');
    ({ outputs } = await handled(next));
  }

  const [completed, nextWave, ...rest] = outputs;
  assert.deepEqual(rest, []);
  assert.ok(completed && isEventOf(completed, 'rollout.wave.completed'), completed?.type);
  assert.deepEqual(completed.data, {
    runId: plan.runId, wave: 0, waves: 2,
    targets: [{ service: 'api', cluster: 'upshift-a', image: image('api', '2.0.0'), previousImage: image('api', '1.0.0') }],
  });
  assert.ok(nextWave && isEventOf(nextWave, 'rollout.wave.requested'), nextWave?.type);
  assert.deepEqual(nextWave.data, waveRequest(plan, 1));
  const steps = await viewSteps(t.store, plan.runId, 'wave');
  assert.deepEqual(steps.map((s) => [s.key, s.status]), [['0', 'completed']]);
  assert.ok(steps[0]?.finishedAt);
  assert.equal((await readRunFacts(t.store, plan.runId))?.status, 'running');
  const published = await t.published([...checks, completed, nextWave].map((e) => e.id));
  assert.ok(published.every((e) => e.source === '/upshift/rollout'));
});

test('a wave whose workload does not exist fails; under rollback with no migrations the image revert is requested', { timeout: 20_000 }, async () => {
  const plan = await seedRun([['ghost@upshift-a'], ['api@upshift-b']]);
  const { outputs } = await handled(waveRequested(plan, 0));
  const [failed, revert, ...rest] = outputs;
  assert.deepEqual(rest, []);
  assert.ok(failed && isEventOf(failed, 'rollout.wave.failed'), failed?.type);
  assert.equal(failed.data.wave, 0);
  assert.deepEqual(failed.data.targets.map((x) => `${x.service}@${x.cluster}`), ['ghost@upshift-a']);
  assert.match(failed.data.reason, /ghost/);
  assert.ok(revert && isEventOf(revert, 'image.revert.requested'), revert?.type);
  assert.deepEqual(revert.data, { runId: plan.runId, stage: 'rollout', reason: failed.data.reason, restoredShards: 0 });

  assert.equal((await readRunFacts(t.store, plan.runId))?.status, 'rolling-back');
  assert.deepEqual((await viewSteps(t.store, plan.runId, 'wave')).map((s) => [s.key, s.status]), [['0', 'failed']]);
  assert.deepEqual(await claimDetail(t.store, plan.runId, 'rollback'), { stage: 'rollout', reason: failed.data.reason }, 'the rollback is claimed once, with its cause');
  assert.equal((await running('upshift-b', ns.name, 'api')).image, image('api', '1.0.0'), 'later waves are not touched');
  await t.published([failed.id, revert.id]);
});

test('a redelivered wave request patches nothing and emits nothing new', { timeout: 20_000 }, async () => {
  const plan = await seedRun([['web@upshift-b']]);
  const request = waveRequested(plan, 0);
  const { result: first, outputs } = await handled(request);
  assert.equal(outputs.length > 0, true);
  const patched = await running('upshift-b', ns.name, 'web');
  assert.equal(patched.image, image('web', '2.0.0'));
  await t.published(outputs.map((e) => e.id));
  const before = await t.outboxCount(plan.runId);
  const stepBefore = await viewSteps(t.store, plan.runId, 'wave');

  const again = await t.handle(request);
  assert.equal(again.statusCode, 200);
  assert.deepEqual(again.body, { outcome: 'duplicate', outputs: first.body['outputs'] });
  assert.equal(await t.outboxCount(plan.runId), before, 'no new event in the outbox');
  assert.equal((await running('upshift-b', ns.name, 'web')).generation, patched.generation, 'not patched again');
  assert.deepEqual(await viewSteps(t.store, plan.runId, 'wave'), stepBefore, 'the wave step is unchanged');
});
