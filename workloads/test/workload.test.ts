/** Reading a real workload: the one observation every caller shares, and the availability built on it. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { clusterClients } from '../src/clusters.ts';
import { observeWorkload, workloadAvailability, type WorkloadRef } from '../src/workload.ts';
import { deploy, deployment, freshNamespace } from '../../test/support/kube.ts';

let ns: Awaited<ReturnType<typeof freshNamespace>>;
const clients = () => clusterClients({ name: 'upshift-a', context: 'upshift-a' });
const ref = (name: string): WorkloadRef => ({ cluster: 'upshift-a', namespace: ns.name, kind: 'Deployment', name, container: 'app' });

before(async () => {
  ns = await freshNamespace('workload-read');
  await deploy('upshift-a', ns.name, [deployment('web', 'registry.local/it/web:1.0.0', { replicas: 2 })]);
});

after(async () => {
  await ns?.remove();
});

test('a deployment is observed with its image, replicas and pod selector', async () => {
  const { observed, selector } = await observeWorkload(clients(), ref('web'));
  assert.equal(observed.image, 'registry.local/it/web:1.0.0');
  assert.equal(observed.desiredReplicas, 2);
  assert.equal(selector, 'app=web');
});

test('a deployment rolled out at its spec is available; a wrong container has no image', async () => {
  assert.deepEqual(await workloadAvailability(clients(), ref('web')), { image: 'registry.local/it/web:1.0.0', available: true });
  assert.deepEqual(await workloadAvailability(clients(), { ...ref('web'), container: 'sidecar' }), { image: undefined, available: false });
});
