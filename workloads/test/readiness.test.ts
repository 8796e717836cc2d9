/**
 * Cluster readiness against the stack: a live API server is reachable, a stopped one is named with its
 * reason, one that never answers is unreachable within seconds.
 */
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { clusterClients } from '../src/clusters.ts';
import { observeCluster } from '../src/readiness.ts';
import { privateKubeconfig, proxiedContext, unreachableContext } from '../../test/support/kube.ts';

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
  assert.match(seen.error ?? '', /connect ECONNREFUSED 127\.0\.0\.1:\d+/, 'the address refused, not only that fetch failed');
});

test('a cluster that accepts connections but never answers is unreachable within seconds', { timeout: 30_000 }, async () => {
  const held = new Set<Socket>();
  const silent = createServer((socket) => void held.add(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const { port } = silent.address() as AddressInfo;
  try {
    const started = Date.now();
    const seen = await observeCluster(clusterClients({ name: 'silent', context: proxiedContext('upshift-a', `silent-${port}`, port) }));
    assert.equal(seen.reachable, false);
    assert.match(seen.error ?? '', /did not answer within 5 s/);
    assert.ok(Date.now() - started < 13_000, `took ${Date.now() - started} ms`);
  } finally {
    for (const socket of held) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  }
});
