/** Cluster readiness against the stack: a live API server is reachable, a stopped one is named with its reason. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { clusterClients } from '../src/clusters.ts';
import { observeCluster } from '../src/readiness.ts';
import { privateKubeconfig, unreachableContext } from '../../test/support/kube.ts';

let kubeconfig: ReturnType<typeof privateKubeconfig>;

before(() => {
  kubeconfig = privateKubeconfig();
});

after(() => kubeconfig?.remove());

test('a running cluster answers /readyz', async () => {
  assert.deepEqual(await observeCluster(clusterClients({ name: 'upshift-a', context: 'upshift-a' })), { cluster: 'upshift-a', reachable: true });
});

test('a stopped cluster is unreachable, with the network reason', async () => {
  const context = await unreachableContext();
  const seen = await observeCluster(clusterClients({ name: 'gone', context }));
  assert.equal(seen.reachable, false);
  assert.match(seen.error ?? '', /ECONNREFUSED/);
});
