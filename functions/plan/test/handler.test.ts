/**
 * plan's handler as Knative runs it (`init`, then `handle(context, event)`), on the fixture
 * `upgrade.requested` pointed at Deployments in the stack's two kwok clusters: the plan persisted with
 * its run and targets, `upgrade.planned` and the first wave; a bad policy rejected with its field path;
 * a redelivery and a re-sent request that change nothing.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { isEventOf, uuidv7, waveRequest } from '@upshift/events';
import { loadPlan, readRunFacts, viewRun } from '@upshift/runtime';
import fn from '../src/index.ts';
import { startFunction, useStackKubeconfig, type FunctionUnderTest } from '../../../test/support/handler.ts';
import { clusterNames, deploy, deployment, freshNamespace } from '../../../test/support/kube.ts';
import { upgradeRequestedIn, type PolicySpec } from './support.ts';

const services = ['customers', 'orders', 'storefront'];
const oldImage = (service: string) => `registry.local/shop/${service}:1.0.0`;

let t: FunctionUnderTest;
let ns: Awaited<ReturnType<typeof freshNamespace>>;

before(async () => {
  useStackKubeconfig();
  ns = await freshNamespace('plan-handler');
  for (const cluster of clusterNames) await deploy(cluster, ns.name, services.map((s) => deployment(s, oldImage(s), { replicas: 1 })));
  t = await startFunction(fn);
});

after(async () => {
  await t?.stop();
  await ns?.remove();
});

/** The fixture request for `runId`, its services moved to this test's namespace (container `app`, no migrations). */
function upgradeRequested(runId: string, change: (spec: PolicySpec) => void = () => undefined) {
  return upgradeRequestedIn(ns.name, runId, change);
}

test('a valid request persists the plan with the run and emits upgrade.planned and the first wave', { timeout: 20_000 }, async () => {
  const runId = uuidv7();
  const result = await t.handle(upgradeRequested(runId));
  assert.equal(result.statusCode, 200, JSON.stringify(result.body));
  assert.equal(result.body['outcome'], 'handled');

  const [planned, first, ...rest] = await t.outputsOf(result);
  assert.deepEqual(rest, [], 'nothing else is emitted');
  assert.ok(planned && isEventOf(planned, 'upgrade.planned'), planned?.type);
  assert.equal(planned.source, '/upshift/plan');
  assert.equal(planned.data.policyName, `shop-${ns.name}`);
  const targets = planned.data.waves.flatMap((w) => w.targets);
  assert.equal(targets.length, services.length * clusterNames.length, 'every service in every cluster');
  for (const target of targets) assert.equal(target.previousImage, oldImage(target.service), `${target.service}@${target.cluster}: the image observed before the run`);
  assert.deepEqual(planned.data.waves[0]?.targets.map((x) => `${x.service}@${x.cluster}`), ['customers@upshift-a'], 'dependency first, canary cluster first');

  const plan = await loadPlan(t.store, runId);
  assert.ok(plan, 'the plan is stored with the run');
  assert.deepEqual(plan.waves, planned.data.waves);
  assert.ok(first && isEventOf(first, 'rollout.wave.requested'), first?.type);
  assert.deepEqual(first.data, waveRequest(plan, 0), 'the first stage is wave 0 (no migrations: no expand)');

  assert.equal((await readRunFacts(t.store, runId))?.status, 'running');
  const { rows } = await t.store.query<{ target: string }>(
    `SELECT target FROM upshift.run_targets WHERE run_id = $1 AND kind = 'workload' AND released_at IS NULL ORDER BY target`, [runId]);
  assert.equal(rows.length, 6, 'the run holds each workload it changes');
  assert.ok(rows.some((row) => row.target === `upshift-b/${ns.name}/Deployment/storefront`), JSON.stringify(rows));

  const published = await t.published([planned.id, first.id]);
  assert.deepEqual(published.map((e) => e.type), [planned.type, first.type]);
  assert.ok(t.transport.published.filter((m) => m.event.id === planned.id).every((m) => m.topic === 'mem.upshift.lifecycle' && m.key === runId));
});

test('an invalid policy is rejected naming the field path; the run is rejected without a plan', { timeout: 20_000 }, async () => {
  const runId = uuidv7();
  const result = await t.handle(upgradeRequested(runId, (spec) => { spec.strategy.failurePolicy = 'explode'; }));
  assert.equal(result.statusCode, 200, JSON.stringify(result.body));
  assert.equal(result.body['outcome'], 'handled');
  const [rejected, ...rest] = await t.outputsOf(result);
  assert.deepEqual(rest, []);
  assert.ok(rejected && isEventOf(rejected, 'upgrade.rejected'), rejected?.type);
  assert.equal(rejected.data.code, 'invalid-policy');
  assert.deepEqual(rejected.data.problems.map((p) => p.path), ['spec.strategy.failurePolicy']);
  const run = await viewRun(t.store, runId);
  assert.equal(run?.status, 'rejected');
  assert.equal(run?.plan, undefined, 'nothing was planned');
  assert.ok(run?.finishedAt, 'a rejected run is final');
  await t.published([rejected.id]);
});

test('a redelivered request emits nothing new; the same run re-sent under a new event id is ignored', { timeout: 20_000 }, async () => {
  const runId = uuidv7();
  const request = upgradeRequested(runId, (spec) => { spec.dryRun = true; });
  const first = await t.handle(request);
  assert.equal(first.statusCode, 200, JSON.stringify(first.body));
  assert.equal(first.body['outcome'], 'handled');
  const [planned, ...rest] = await t.outputsOf(first);
  assert.ok(planned && isEventOf(planned, 'upgrade.planned') && planned.data.dryRun, planned?.type);
  assert.deepEqual(rest, [], 'a dry run starts no stage');
  assert.equal((await readRunFacts(t.store, runId))?.status, 'planned');
  await t.published([planned.id]);
  const before = await t.outboxCount(runId);

  const again = await t.handle(request);
  assert.equal(again.statusCode, 200);
  assert.deepEqual(again.body, { outcome: 'duplicate', outputs: first.body['outputs'] }, 'the first outputs are replayed, none added');
  const resent = await t.handle(upgradeRequested(runId, (spec) => { spec.dryRun = true; }));
  assert.deepEqual(resent.body, { outcome: 'handled', outputs: [] }, 'a run the store knows is not planned twice');
  assert.equal(await t.outboxCount(runId), before, 'no new event in the outbox');
  assert.equal((await readRunFacts(t.store, runId))?.status, 'planned');
});
