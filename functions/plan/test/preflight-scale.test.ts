/**
 * Planning hundreds of workloads on the stack's two kwok clusters through plan's handler: the plan is
 * right (every service in every cluster, with the image it runs now), a missing workload or container is
 * still named by cluster, namespace and name, and the Kubernetes requests preflight makes grow with the
 * namespaces a policy names, not with its workloads (counted from undici's `undici:request:create`
 * diagnostics channel for the two API servers: client-node 2 sends its requests with undici's fetch). Timings are the bench's (bench/src/plan.ts), not asserted.
 */
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { after, before, test } from 'node:test';
import pLimit from 'p-limit';
import { isEventOf, uuidv7 } from '@upshift/events';
import fn from '../src/index.ts';
import { startFunction, useStackKubeconfig, type FunctionUnderTest } from '../../../test/support/handler.ts';
import { apiServerOf, clusterNames, deployment, freshNamespace, kube } from '../../../test/support/kube.ts';
import { upgradeRequestedIn, type ServiceSpec } from './support.ts';

/** Services per namespace; two namespaces, two clusters: 200 services, 400 workloads. */
const perNamespace = 100;
const oldImage = (service: string) => `registry.local/scale/${service}:1.0.0`;

let t: FunctionUnderTest;
let namespaces: Array<Awaited<ReturnType<typeof freshNamespace>>> = [];

before(async () => {
  useStackKubeconfig();
  namespaces = [await freshNamespace('plan-scale'), await freshNamespace('plan-scale')];
  const create = pLimit(16);
  const jobs = clusterNames.flatMap((cluster) => {
    const { apps } = kube(cluster);
    return namespaces.flatMap((ns) => servicesIn(ns.name, perNamespace).map((s) => ({ apps, namespace: ns.name, body: deployment(s.name, oldImage(s.name), { replicas: 0 }) })));
  });
  await Promise.all(jobs.map(({ apps, namespace, body }) => create(() => apps.createNamespacedDeployment({ namespace, body }))));
  t = await startFunction(fn);
}, { timeout: 120_000 });

after(async () => {
  await t?.stop();
  for (const ns of namespaces) await ns.remove();
});

function servicesIn(namespace: string, count: number): ServiceSpec[] {
  return Array.from({ length: count }, (_, i) => {
    const name = `${namespace.slice(-4)}-svc-${String(i).padStart(3, '0')}`;
    return { name, namespace, container: 'app', image: `registry.local/scale/${name}:2.0.0`, dependsOn: [], clusters: [...clusterNames], workload: { kind: 'Deployment', name } };
  });
}

/** Kubernetes requests made while `work` runs: method and path, for the stack's two API servers. */
async function kubernetesRequests(work: () => Promise<unknown>): Promise<string[]> {
  const servers = new Set(clusterNames.map((c) => { const { host, port } = apiServerOf(c); return `${host}:${port}`; }));
  const seen: string[] = [];
  const listener = (message: unknown) => {
    const { request } = message as { request: { method: string; path: string; origin: string | URL } };
    if (servers.has(new URL(String(request.origin)).host)) seen.push(`${request.method} ${request.path}`);
  };
  subscribe('undici:request:create', listener);
  try {
    await work();
  } finally {
    unsubscribe('undici:request:create', listener);
  }
  return seen;
}

/** Handles a request for `services` and returns its first output and the Kubernetes requests it made. */
async function plan(services: ServiceSpec[], dryRun: boolean) {
  let outputs: Awaited<ReturnType<FunctionUnderTest['outputsOf']>> = [];
  const requests = await kubernetesRequests(async () => {
    const result = await t.handle(upgradeRequestedIn(namespaces[0]?.name ?? '', uuidv7(), (spec) => { spec.services = services; spec.dryRun = dryRun; }));
    assert.equal(result.statusCode, 200, JSON.stringify(result.body));
    outputs = await t.outputsOf(result);
  });
  return { first: outputs[0], requests };
}

test('200 services in 2 clusters are planned with each workload\'s current image, by one list per namespace', { timeout: 60_000 }, async () => {
  const services = namespaces.flatMap((ns) => servicesIn(ns.name, perNamespace));
  const { first, requests } = await plan(services, false);
  assert.ok(first && isEventOf(first, 'upgrade.planned'), `${first?.type}: ${JSON.stringify(first?.data).slice(0, 500)}`);
  const targets = first.data.waves.flatMap((w) => w.targets);
  assert.equal(targets.length, services.length * clusterNames.length, 'every service in every cluster');
  assert.deepEqual(new Set(targets.map((x) => `${x.service}@${x.cluster}`)).size, targets.length);
  for (const target of targets) assert.equal(target.previousImage, oldImage(target.service), `${target.service}@${target.cluster}`);
  assert.ok(first.data.waves[0]?.targets.every((x) => x.cluster === 'upshift-a'), 'canary cluster first');
  const perWorkload = requests.filter((r) => /\/(deployments|statefulsets)\/[^/?]+/.test(r));
  assert.deepEqual(perWorkload, [], 'no request names a workload');
  const lists = requests.filter((r) => r.startsWith('GET /apis/apps/v1/namespaces/'));
  assert.equal(lists.length, clusterNames.length * namespaces.length, lists.join('\n'));
  assert.ok(lists.every((r) => r.endsWith('/deployments?limit=500')), lists.join('\n'));
});

test('the Kubernetes requests grow with the namespaces named, not with the workloads', { timeout: 60_000 }, async () => {
  const [first, second] = namespaces.map((ns) => ns.name);
  const few = await plan([...servicesIn(first ?? '', 5), ...servicesIn(second ?? '', 5)], true);
  const many = await plan([...servicesIn(first ?? '', perNamespace), ...servicesIn(second ?? '', perNamespace)], true);
  const oneNamespace = await plan(servicesIn(first ?? '', perNamespace), true);
  for (const run of [few, many, oneNamespace]) assert.ok(run.first && isEventOf(run.first, 'upgrade.planned'), run.first?.type);
  assert.equal(many.requests.length, few.requests.length, `20 workloads: ${few.requests.length} requests; 400: ${many.requests.length}`);
  // Per cluster: /readyz, then per namespace a list and a review for each of get and patch.
  assert.equal(many.requests.length, clusterNames.length * (1 + 2 * 3), many.requests.join('\n'));
  assert.equal(oneNamespace.requests.length, clusterNames.length * (1 + 1 * 3), oneNamespace.requests.join('\n'));
  assert.equal(many.requests.filter((r) => r.includes('selfsubjectaccessreviews')).length, clusterNames.length * 2 * 2, 'one review per namespace and verb');
});

test('a missing workload and a missing container are named by cluster, namespace and name among hundreds', { timeout: 60_000 }, async () => {
  const ns = namespaces[0]?.name ?? '';
  const services = servicesIn(ns, perNamespace);
  const ghost = { ...services[0] as ServiceSpec, name: 'ghost', workload: { kind: 'Deployment', name: 'ghost' } };
  const sidecar = { ...services[1] as ServiceSpec, name: 'sidecar', container: 'sidecar' };
  const { first } = await plan([...services, ghost, sidecar], true);
  assert.ok(first && isEventOf(first, 'upgrade.rejected'), first?.type);
  assert.equal(first.data.code, 'preflight-failed');
  const at = services.length;
  assert.deepEqual(first.data.problems, clusterNames.flatMap((cluster) => [{ cluster, index: at, what: 'workload' }, { cluster, index: at + 1, what: 'container' }])
    .sort((a, b) => a.index - b.index)
    .map(({ cluster, index, what }) => (what === 'workload'
      ? { path: `spec.services[${index}].workload`, message: `Deployment ${ns}/ghost in cluster ${cluster} does not exist` }
      : { path: `spec.services[${index}].container`, message: `Deployment ${ns}/${services[1]?.name ?? ''} in cluster ${cluster} has no container named sidecar` })));
});
