/**
 * rollout under a paused run (real control store, kwok clusters): the wave in flight finishes its
 * rollout and its completion is published, but the next wave is held (not in the outbox) until a resume;
 * a wave requested while the run is paused is not patched, only held; the wave's checkpoint keeps the
 * run's time paused at its patch, from which its deadlines move.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fixture, uuidv7, waveRequest, type AnyUpshiftEvent, type RunPlan } from '@upshift/events';
import { heldWorkOf, savePlan, startRun, uncontrolled, viewSteps, withTransaction, writeRunControl } from '@upshift/runtime';
import fn from '../src/index.ts';
import { fixtureEvent, startFunction, useStackKubeconfig, type FunctionUnderTest } from '../../../test/support/handler.ts';
import { deploy, deployment, freshNamespace, running } from '../../../test/support/kube.ts';

const image = (service: string, version: string) => `registry.local/controls/${service}:${version}`;

let t: FunctionUnderTest;
let ns: Awaited<ReturnType<typeof freshNamespace>>;

before(async () => {
  useStackKubeconfig();
  ns = await freshNamespace('rollout-controls');
  for (const cluster of ['upshift-a', 'upshift-b']) await deploy(cluster, ns.name, [deployment('api', image('api', '1.0.0'), { replicas: 1 })]);
  t = await startFunction(fn, { UPSHIFT_ROLLOUT_MAX_WAIT_MS: '500' });
});

after(async () => {
  await t?.stop();
  await ns?.remove();
});

/** A running run of two waves: api in upshift-a, then api in upshift-b. */
async function seedRun(): Promise<RunPlan> {
  const runId = uuidv7();
  const template = fixture('upgrade.planned').data.waves[0]?.targets[0];
  assert.ok(template);
  const target = (cluster: string) => ({
    ...template, service: 'api', cluster, namespace: ns.name, workload: { kind: 'Deployment' as const, name: 'api' }, container: 'app',
    image: image('api', '2.0.0'), previousImage: image('api', '1.0.0'),
  });
  const plan: RunPlan = {
    runId, policyName: 'rollout-controls', dryRun: false, migrations: [],
    clusters: [{ name: 'upshift-a', context: 'upshift-a' }, { name: 'upshift-b', context: 'upshift-b' }],
    // A soak keeps the wave in flight past its first look, however fast kwok rolls it out: the pause lands mid-wave.
    strategy: { maxParallelServices: 1, soakSeconds: 2, progressDeadlineSeconds: 60, failurePolicy: 'rollback', contract: false },
    waves: [{ index: 0, targets: [target('upshift-a')] }, { index: 1, targets: [target('upshift-b')] }],
  };
  await withTransaction(t.store, async (tx) => {
    await startRun(tx, runId, { policy: { metadata: { name: plan.policyName } } }, []);
    await savePlan(tx, plan);
  });
  return plan;
}

async function setPaused(runId: string, paused: boolean, pausedMs: number): Promise<void> {
  await withTransaction(t.store, (tx) => writeRunControl(tx, runId, { ...uncontrolled, paused, pausedAt: paused ? Date.now() : undefined, pausedMs }, { requestedBy: 'test', controlId: uuidv7() }));
}

/** Handles an event; returns the types it emitted that went to the outbox (held ones do not). */
async function outboxOutputs(event: unknown): Promise<AnyUpshiftEvent[]> {
  const result = await t.handle(event);
  assert.equal(result.statusCode, 200, JSON.stringify(result.body));
  const ids = (result.body['outputs'] as string[]).map(String);
  const { rows } = await t.store.query<{ event: AnyUpshiftEvent }>('SELECT event FROM upshift.outbox WHERE id = ANY($1::text[]) ORDER BY seq', [ids]);
  return rows.map((row) => row.event);
}

const waveRequested = (plan: RunPlan, wave: number) => fixtureEvent('rollout.wave.requested', () => waveRequest(plan, wave)!);

test('paused mid-wave: the wave finishes its rollout, the next wave is held', { timeout: 30_000 }, async () => {
  const plan = await seedRun();
  let outputs = await outboxOutputs(waveRequested(plan, 0));
  assert.equal((await running('upshift-a', ns.name, 'api')).image, image('api', '2.0.0'));
  const [patchedStep] = await viewSteps(t.store, plan.runId, 'wave');
  assert.equal((patchedStep?.checkpoint as { pausedMsAtPatch?: number }).pausedMsAtPatch, 0, 'the time paused at the patch is kept');
  await setPaused(plan.runId, true, 0);
  for (let looks = 0; outputs.length === 1 && outputs[0]?.type === 'dev.upshift.rollout.wave.check.v1'; looks++) {
    assert.ok(looks < 30, 'the wave completes within 30 looks');
    outputs = await outboxOutputs(outputs[0]);
  }
  assert.deepEqual(outputs.map((e) => e.type), ['dev.upshift.rollout.wave.completed.v1'], 'completed, and nothing more published');
  const held = await heldWorkOf(t.store, plan.runId);
  assert.deepEqual(held.map((h) => h.type), ['dev.upshift.rollout.wave.requested.v1'], 'the next wave is held');
  assert.equal((await running('upshift-b', ns.name, 'api')).image, image('api', '1.0.0'), 'wave 2 is not touched');
});

test('a wave requested while the run is paused is not patched, only held', { timeout: 20_000 }, async () => {
  const plan = await seedRun();
  await setPaused(plan.runId, true, 0);
  const outputs = await outboxOutputs(waveRequested(plan, 1));
  assert.deepEqual(outputs, []);
  assert.deepEqual((await heldWorkOf(t.store, plan.runId)).map((h) => h.type), ['dev.upshift.rollout.wave.requested.v1']);
  assert.deepEqual(await viewSteps(t.store, plan.runId, 'wave'), [], 'no wave step: nothing was patched');
  assert.equal((await running('upshift-b', ns.name, 'api')).image, image('api', '1.0.0'));
});
