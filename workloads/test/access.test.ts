/** Preflight reads against a real cluster: workloads, containers and rollout's rights. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { clusterClients } from '../src/clusters.ts';
import { deploy, deployment, freshNamespace, kube, limitedContext, privateKubeconfig } from '../../test/support/kube.ts';
import { observeWorkloadAccess, observeWorkloadsAccess, refOfService } from '../src/access.ts';

let ns: Awaited<ReturnType<typeof freshNamespace>>;
let kubeconfig: ReturnType<typeof privateKubeconfig>;

before(async () => {
  kubeconfig = privateKubeconfig();
  ns = await freshNamespace('preflight-sar');
  await deploy('upshift-a', ns.name, [deployment('web', 'registry.local/it/web:1.0.0'), deployment('api', 'registry.local/it/api:1.0.0', { replicas: 1 })]);
  // A ServiceAccount that may get and list Deployments but not patch them, and one that may patch.
  await limitedContext('upshift-a', ns.name);
  const { core, rbac } = kube('upshift-a');
  await core.createNamespacedServiceAccount({ namespace: ns.name, body: { metadata: { name: 'roller' } } });
  await rbac.createNamespacedRole({ namespace: ns.name, body: { metadata: { name: 'roller' }, rules: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'patch'] }] } });
  await rbac.createNamespacedRoleBinding({ namespace: ns.name, body: { metadata: { name: 'roller' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'roller' }, subjects: [{ kind: 'ServiceAccount', name: 'roller', namespace: ns.name }] } });
  // One that may patch only the Deployment named web (resourceNames): the namespace-wide review says no.
  await rbac.createNamespacedRole({ namespace: ns.name, body: { metadata: { name: 'named' }, rules: [
    { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get'] },
    { apiGroups: ['apps'], resources: ['deployments'], verbs: ['patch'], resourceNames: ['web'] },
  ] } });
  await rbac.createNamespacedRoleBinding({ namespace: ns.name, body: { metadata: { name: 'named' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'named' }, subjects: [{ kind: 'ServiceAccount', name: 'named', namespace: ns.name }] } });
});

after(async () => {
  await ns?.remove();
  kubeconfig?.remove();
});

const service = (name: string, container = 'app') => ({
  name, clusters: ['upshift-a'], namespace: '', workload: { kind: 'Deployment' as const, name }, container, image: 'registry.local/it/web:2.0.0', dependsOn: [],
});
const refOf = (name: string, container?: string) => refOfService({ ...service(name, container), namespace: ns.name }, 'upshift-a');

test('with a rollout identity, preflight asks a SubjectAccessReview for that user', async () => {
  const clients = clusterClients({ name: 'upshift-a', context: 'upshift-a' });
  const limited = await observeWorkloadAccess(clients, refOf('web'), `system:serviceaccount:${ns.name}:limited`);
  assert.deepEqual(limited.deniedVerbs, ['patch']);
  assert.equal(limited.currentImage, 'registry.local/it/web:1.0.0');
  const roller = await observeWorkloadAccess(clients, refOf('web'), `system:serviceaccount:${ns.name}:roller`);
  assert.deepEqual(roller.deniedVerbs, []);
});

test('without one, preflight asks about its own credential; a missing workload or container is seen', async () => {
  const admin = clusterClients({ name: 'upshift-a', context: 'upshift-a' });
  const own = await observeWorkloadAccess(admin, refOf('web'));
  assert.deepEqual([own.found, own.containerFound, own.deniedVerbs], [true, true, []]);
  const ghost = await observeWorkloadAccess(admin, refOf('ghost'));
  assert.equal(ghost.found, false);
  const wrongContainer = await observeWorkloadAccess(admin, refOf('web', 'sidecar'));
  assert.deepEqual([wrongContainer.found, wrongContainer.containerFound], [true, false]);
  const limited = clusterClients({ name: 'upshift-a', context: `limited-${ns.name}` });
  assert.deepEqual((await observeWorkloadAccess(limited, refOf('web'))).deniedVerbs, ['patch']);
});

test('a right granted on named workloads only is found by asking by name where the namespace-wide review says no', async () => {
  const clients = clusterClients({ name: 'upshift-a', context: 'upshift-a' });
  const [web, api, ghost] = await observeWorkloadsAccess(clients, [refOf('web'), refOf('api'), refOf('ghost')], `system:serviceaccount:${ns.name}:named`);
  assert.deepEqual([web?.found, web?.currentImage, web?.deniedVerbs], [true, 'registry.local/it/web:1.0.0', []]);
  assert.deepEqual([api?.found, api?.currentImage, api?.deniedVerbs], [true, 'registry.local/it/api:1.0.0', ['patch']]);
  assert.deepEqual([ghost?.found, ghost?.deniedVerbs], [false, ['patch']]);
});
