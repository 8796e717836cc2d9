/**
 * A run frozen at its second wave on the stack's kwok cluster upshift-a: two services in two waves under
 * `failurePolicy: freeze`, where wave 2's pods never get ready (the stack's failure label) until the
 * test lifts the label — as an operator fixing the workload would.
 */
import assert from 'node:assert/strict';
import { isEventOf } from '@upshift/events';
import { deploy, deployment, kube, running } from './kube.ts';
import { testPolicy } from './policy.ts';
import type { Harness } from './run.ts';

export const frozenCluster = 'upshift-a';

/** The image of a service of the frozen scenario at a version. */
export const frozenImage = (service: string, version: string) => `registry.local/frozen/${service}:${version}`;

/** Sets or removes the stack's failure label on a Deployment's pods (kwok never makes such pods ready). */
export async function setFailing(namespace: string, name: string, failing: boolean): Promise<void> {
  const { apps } = kube(frozenCluster);
  const current = await apps.readNamespacedDeployment({ name, namespace });
  const template = current.spec!.template;
  const labels = { ...(template.metadata?.labels ?? {}) };
  if (failing) labels['upshift.dev/fail'] = 'true';
  else delete labels['upshift.dev/fail'];
  template.metadata = { ...template.metadata, labels };
  await apps.replaceNamespacedDeployment({ name, namespace, body: current });
}

/** Two services in two waves, frozen at wave 2 (api's pods never get ready); returns the run id. */
export async function frozenAtWave2(harness: Harness, namespace: string): Promise<string> {
  const v = frozenImage;
  await deploy(frozenCluster, namespace, [deployment('db', v('db', '1.0.0')), deployment('api', v('api', '1.0.0'), { progressDeadlineSeconds: 4 })]);
  await setFailing(namespace, 'api', true);
  const clusters = [{ name: frozenCluster, context: frozenCluster }];
  const policy = testPolicy(namespace, [{ name: 'db', image: v('db', '2.0.0') }, { name: 'api', image: v('api', '2.0.0'), dependsOn: ['db'] }], { clusters, failurePolicy: 'freeze', progressDeadlineSeconds: 30 });
  const runId = await harness.request(policy);
  const failed = await harness.waitFor(runId, ['upgrade.failed', 'upgrade.completed', 'upgrade.rolled-back'], 90_000);
  assert.ok(isEventOf(failed, 'upgrade.failed') && failed.data.frozen, `${failed.type}: ${JSON.stringify(failed.data)}`);
  assert.equal(failed.data.stage, 'rollout');
  assert.equal((await running(frozenCluster, namespace, 'db')).image, v('db', '2.0.0'), 'the freeze keeps wave 1');
  assert.equal((await running(frozenCluster, namespace, 'api')).image, v('api', '2.0.0'), 'the freeze leaves wave 2 as it stands');
  return runId;
}
