/**
 * plan with UPSHIFT_NAMESPACES set as the knative manifests set it, through the real handler (`init`,
 * then `handle`) against the stack's kwok clusters: a policy that also names kube-system is rejected with
 * that service's field path and nothing is planned; the same policy within the listed namespace plans.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { isEventOf, uuidv7 } from '@upshift/events';
import { viewRun } from '@upshift/runtime';
import fn from '../src/index.ts';
import { startFunction, useStackKubeconfig, type FunctionUnderTest } from '../../../test/support/handler.ts';
import { clusterNames, deploy, deployment, freshNamespace } from '../../../test/support/kube.ts';
import { upgradeRequestedIn, type PolicySpec } from './support.ts';

const services = ['customers', 'orders', 'storefront'];

let t: FunctionUnderTest;
let ns: Awaited<ReturnType<typeof freshNamespace>>;
let other: Awaited<ReturnType<typeof freshNamespace>>;

before(async () => {
  useStackKubeconfig();
  [ns, other] = await Promise.all([freshNamespace('plan-ns-listed'), freshNamespace('plan-ns-unlisted')]);
  for (const cluster of clusterNames) await deploy(cluster, ns.name, services.map((s) => deployment(s, `registry.local/shop/${s}:1.0.0`, { replicas: 1 })));
  t = await startFunction(fn, { UPSHIFT_NAMESPACES: `${ns.name},payments` });
});

after(async () => {
  await t?.stop();
  await Promise.all([ns?.remove(), other?.remove()]);
});

/** The fixture request (a dry run) with its services in the listed namespace, then `change`. */
function upgradeRequested(runId: string, change: (spec: PolicySpec) => void = () => undefined) {
  return upgradeRequestedIn(ns.name, runId, (spec) => { spec.dryRun = true; change(spec); });
}

test('a policy naming kube-system and an unlisted namespace is rejected with each path; nothing is planned', { timeout: 20_000 }, async () => {
  const runId = uuidv7();
  const result = await t.handle(upgradeRequested(runId, (spec) => {
    const template = spec.services[0];
    assert.ok(template);
    spec.services.push({ ...template, name: 'dns', namespace: 'kube-system', dependsOn: [] }, { ...template, name: 'elsewhere', namespace: other.name, dependsOn: [] });
  }));
  assert.equal(result.statusCode, 200, JSON.stringify(result.body));
  const [rejected, ...rest] = await t.outputsOf(result);
  assert.deepEqual(rest, []);
  assert.ok(rejected && isEventOf(rejected, 'upgrade.rejected'), rejected?.type);
  assert.equal(rejected.data.code, 'invalid-policy');
  assert.deepEqual(rejected.data.problems, [
    { path: 'spec.services[3].namespace', message: `namespace kube-system is not in the namespaces upshift may change (UPSHIFT_NAMESPACES: ${ns.name}, payments)` },
    { path: 'spec.services[4].namespace', message: `namespace ${other.name} is not in the namespaces upshift may change (UPSHIFT_NAMESPACES: ${ns.name}, payments)` },
  ]);
  const run = await viewRun(t.store, runId);
  assert.equal(run?.status, 'rejected');
  assert.equal(run?.plan, undefined, 'nothing was planned');
});

test('the same services within the listed namespace are planned', { timeout: 20_000 }, async () => {
  const runId = uuidv7();
  const result = await t.handle(upgradeRequested(runId));
  assert.equal(result.statusCode, 200, JSON.stringify(result.body));
  const [planned] = await t.outputsOf(result);
  assert.ok(planned && isEventOf(planned, 'upgrade.planned'), `${planned?.type}: ${JSON.stringify(planned?.data)}`);
  assert.equal(planned.data.waves.flatMap((w) => w.targets).length, services.length * clusterNames.length);
});
