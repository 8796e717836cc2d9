/**
 * A cluster lost mid-rollout: the run reaches cluster upshift-b through a TCP proxy that the test cuts
 * while the canary wave (upshift-a) soaks. The wave of upshift-b cannot patch or look at its workload; it
 * waits until the policy's progress deadline and fails naming the cluster; the rollback reverts what it
 * can reach (upshift-a), reports the wave it could not, and the run ends. Run twice: a stopped API server
 * (connection refused) and a partition (connections accepted, never answered: only the request timeout
 * ends each call).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { isEventOf } from '@upshift/events';
import { apiServerOf, deploy, deployment, freshNamespace, privateKubeconfig, proxiedContext, running } from '../support/kube.ts';
import { testPolicy } from '../support/policy.ts';
import { startHarness, type Harness } from '../support/run.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { runEnds, until } from './shard-run.ts';

const progressDeadlineSeconds = 6;
let harness: Harness;
let kubeconfig: ReturnType<typeof privateKubeconfig>;
const proxies: TcpProxy[] = [];

before(async () => {
  kubeconfig = privateKubeconfig();
  harness = await startHarness(['plan', 'rollout', 'verify'], { mode: 'process', extraEnv: { UPSHIFT_KUBE_REQUEST_TIMEOUT_MS: '1500' } });
});

after(async () => {
  await harness?.stop();
  for (const proxy of proxies) await proxy.close();
  kubeconfig?.remove();
});

const image = (version: string) => `registry.local/lost/api:${version}`;

for (const mode of ['refuse', 'blackhole'] as const) {
  test(`upshift-b lost mid-rollout (${mode}): its wave fails naming the cluster, upshift-a rolls back, the run ends`, { timeout: 150_000 }, async () => {
    const ns = await freshNamespace('lost');
    try {
      const proxy = await startTcpProxy(apiServerOf('upshift-b'));
      proxies.push(proxy);
      const viaProxy = proxiedContext('upshift-b', `upshift-b-via-${proxy.port}`, proxy.port);
      for (const cluster of ['upshift-a', 'upshift-b']) await deploy(cluster, ns.name, [deployment('api', image('1.0.0'), { replicas: 1 })]);
      // Waves: api in upshift-a (the canary, soaking long enough to cut the proxy), then api in upshift-b.
      const policy = testPolicy(ns.name, [{ name: 'api', image: image('2.0.0') }], {
        clusters: [{ name: 'upshift-a', context: 'upshift-a' }, { name: 'upshift-b', context: viaProxy }],
        soakSeconds: 4, progressDeadlineSeconds, failurePolicy: 'rollback',
      });
      const runId = await harness.request(policy);
      await until(async () => ((await running('upshift-a', ns.name, 'api')).image === image('2.0.0') ? true : undefined), 60_000, 'the canary wave was not patched');
      await proxy.cut(mode);
      const fault = Date.now();
      const end = await harness.waitFor(runId, [...runEnds], 120_000);
      console.log(`upshift-b lost (${mode}) during the canary's soak: ${end.type} ${Date.now() - fault} ms later (progress deadline ${progressDeadlineSeconds} s)`);

      const waveFailed = harness.eventsOf(runId).find((e) => isEventOf(e, 'rollout.wave.failed'));
      assert.ok(waveFailed && isEventOf(waveFailed, 'rollout.wave.failed'), `no wave failed: ${harness.eventsOf(runId).map((e) => e.type).join(', ')}`);
      assert.equal(waveFailed.data.wave, 1, 'the wave of upshift-b failed');
      assert.deepEqual(waveFailed.data.targets.map((t) => `${t.service}@${t.cluster}`), ['api@upshift-b']);
      assert.match(waveFailed.data.reason, /cluster upshift-b did not answer until the progress deadline/);

      assert.ok(isEventOf(end, 'upgrade.failed'), `${end.type}: ${JSON.stringify(end.data)}`);
      assert.equal(end.data.stage, 'rollback');
      assert.match(end.data.reason, /wave 2 not reverted: api in upshift-b: cluster upshift-b did not answer/, 'the end names the wave and cluster left as they are');
      assert.equal((await running('upshift-a', ns.name, 'api')).image, image('1.0.0'), 'the reachable cluster was rolled back');
      assert.equal((await running('upshift-b', ns.name, 'api')).image, image('1.0.0'), 'upshift-b was never patched');
    } finally {
      await ns.remove();
    }
  });
}
