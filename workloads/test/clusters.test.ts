/** The cluster clients against the stack: one cluster's requests share their connections. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { clusterClients } from '../src/clusters.ts';
import { apiServerOf, privateKubeconfig, proxiedContext } from '../../test/support/kube.ts';
import { startTcpProxy, type TcpProxy } from '../../test/support/tcp-proxy.ts';

let kubeconfig: ReturnType<typeof privateKubeconfig>;
let proxy: TcpProxy;

before(async () => {
  kubeconfig = privateKubeconfig();
  proxy = await startTcpProxy(apiServerOf('upshift-a'));
});

after(async () => {
  await proxy?.close();
  kubeconfig?.remove();
});

test('requests of one cluster reuse their connections instead of a TLS handshake each', async () => {
  const clients = clusterClients({ name: 'counted', context: proxiedContext('upshift-a', `counted-${proxy.port}`, proxy.port) });
  for (let i = 0; i < 10; i++) await clients.core.readNamespace({ name: 'default' });
  await Promise.all(Array.from({ length: 5 }, () => clients.apps.listNamespacedDeployment({ namespace: 'default', limit: 1 })));
  await clients.authorization.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { group: 'apps', resource: 'deployments', verb: 'get', namespace: 'default' } } } });
  assert.ok(proxy.accepted() <= 6, `16 requests opened ${proxy.accepted()} connections`);
});
