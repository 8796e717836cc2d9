import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ApiException, Health, KubeConfig } from '@kubernetes/client-node';
import type { V1Deployment } from '@kubernetes/client-node';
import {
  clientsFor,
  clientsFromConfig,
  condition,
  contexts,
  createNamespace,
  deleteNamespace,
  deployment,
  eventually,
  kubectl,
  rolledOut,
} from './kubernetes-helpers.ts';
import type { ClusterClients } from './kubernetes-helpers.ts';

const [contextA = 'upshift-a', contextB = 'upshift-b'] = contexts;
const failLabel = 'upshift.dev/fail';
const cleanups: (() => Promise<void>)[] = [];

/** A namespace for one test, deleted after the file's tests. */
async function namespaceFor(clients: ClusterClients, prefix: string): Promise<string> {
  const namespace = await createNamespace(clients, prefix);
  cleanups.push(() => deleteNamespace(clients, namespace));
  return namespace;
}

after(async () => {
  await Promise.all(cleanups.map((cleanup) => cleanup()));
});

async function readDeployment(clients: ClusterClients, namespace: string, name: string): Promise<V1Deployment> {
  return clients.apps.readNamespacedDeployment({ name, namespace });
}

describe('local Kubernetes clusters', () => {
  test('both clusters are ready, have 3 Ready nodes each and are independent', { timeout: 60_000 }, async () => {
    const [a, b] = [clientsFor(contextA), clientsFor(contextB)];
    for (const clients of [a, b]) {
      assert.equal(await new Health(clients.kubeConfig).readyz({}), true, `${clients.context} /readyz`);
      const nodes = await clients.core.listNode();
      const ready = nodes.items.filter((node) => node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      assert.equal(ready.length, 3, `${clients.context} Ready nodes: ${nodes.items.map((n) => n.metadata?.name).join(', ')}`);
      assert.ok(nodes.items.every((node) => (node.spec?.taints ?? []).every((t) => t.effect !== 'NoSchedule')));
    }
    assert.notEqual(a.kubeConfig.getCurrentCluster()?.server, b.kubeConfig.getCurrentCluster()?.server);
    const namespace = await namespaceFor(a, 'independent');
    await a.core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'only-in-a' }, data: { k: 'v' } } });
    await assert.rejects(b.core.readNamespace({ name: namespace }), (error: unknown) => error instanceof ApiException && error.code === 404);
  });

  test('a Deployment becomes Available and rolls out a new image', { timeout: 120_000 }, async () => {
    await Promise.all([contextA, contextB].map(async (context) => {
      const clients = clientsFor(context);
      const namespace = await namespaceFor(clients, 'rollout');
      await clients.apps.createNamespacedDeployment({ namespace, body: deployment('web', 'registry.local/web:1.0.0') });
      await eventually(`${context} web:1.0.0 available`, async () => {
        const d = await readDeployment(clients, namespace, 'web');
        return rolledOut(d) && condition(d, 'Available')?.status === 'True' ? d : undefined;
      }, 60_000);

      const patched = await clients.apps.patchNamespacedDeployment({
        name: 'web',
        namespace,
        body: [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'registry.local/web:1.1.0' }],
      });
      const generation = patched.metadata?.generation ?? 0;
      const done = await eventually(`${context} web:1.1.0 rolled out`, async () => {
        const d = await readDeployment(clients, namespace, 'web');
        return rolledOut(d) && (d.status?.observedGeneration ?? 0) >= generation ? d : undefined;
      }, 90_000);
      assert.equal(done.spec?.template.spec?.containers[0]?.image, 'registry.local/web:1.1.0');
      assert.equal(condition(done, 'Progressing')?.reason, 'NewReplicaSetAvailable');

      const replicaSets = await clients.apps.listNamespacedReplicaSet({ namespace, labelSelector: 'app=web' });
      const byImage = new Map(replicaSets.items.map((rs) => [rs.spec?.template?.spec?.containers[0]?.image, rs]));
      assert.equal(replicaSets.items.length, 2, 'old and new ReplicaSet');
      assert.equal(byImage.get('registry.local/web:1.1.0')?.status?.availableReplicas, 3);
      assert.equal(byImage.get('registry.local/web:1.0.0')?.spec?.replicas, 0);
    }));
  });

  test(`a template labelled ${failLabel}=true never becomes Available and exceeds its progress deadline`, { timeout: 120_000 }, async () => {
    const clients = clientsFor(contextB);
    const namespace = await namespaceFor(clients, 'failing');
    const failing = deployment('broken', 'registry.local/broken:1.0.0', { replicas: 2, progressDeadlineSeconds: 5, labels: { [failLabel]: 'true' } });
    await clients.apps.createNamespacedDeployment({ namespace, body: failing });
    const stalled = await eventually('ProgressDeadlineExceeded', async () => {
      const d = await readDeployment(clients, namespace, 'broken');
      return condition(d, 'Progressing')?.reason === 'ProgressDeadlineExceeded' ? d : undefined;
    }, 60_000);
    assert.equal(condition(stalled, 'Progressing')?.status, 'False');
    assert.equal(condition(stalled, 'Available')?.status, 'False');
    assert.ok(!stalled.status?.availableReplicas, 'no available replicas');
    const pods = await clients.core.listNamespacedPod({ namespace, labelSelector: 'app=broken' });
    assert.equal(pods.items.length, 2);
    for (const pod of pods.items) {
      assert.equal(pod.status?.phase, 'Running', 'kwok runs the pod');
      assert.equal(pod.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'False', 'but never makes it Ready');
    }
  });

  test(`a rollout to a template labelled ${failLabel}=true stalls while the old pods stay available`, { timeout: 120_000 }, async () => {
    const clients = clientsFor(contextA);
    const namespace = await namespaceFor(clients, 'stalled');
    await clients.apps.createNamespacedDeployment({ namespace, body: deployment('api', 'registry.local/api:1.0.0', { replicas: 2, progressDeadlineSeconds: 5 }) });
    await eventually('api:1.0.0 available', async () => (rolledOut(await readDeployment(clients, namespace, 'api')) ? true : undefined), 60_000);
    await clients.apps.patchNamespacedDeployment({
      name: 'api',
      namespace,
      body: [
        { op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'registry.local/api:2.0.0' },
        { op: 'add', path: '/spec/template/metadata/labels/upshift.dev~1fail', value: 'true' },
      ],
    });
    const stalled = await eventually('ProgressDeadlineExceeded', async () => {
      const d = await readDeployment(clients, namespace, 'api');
      return condition(d, 'Progressing')?.reason === 'ProgressDeadlineExceeded' ? d : undefined;
    }, 60_000);
    assert.equal(rolledOut(stalled), false);
    assert.equal(stalled.status?.availableReplicas, 2, 'old pods keep serving');
    assert.ok((stalled.status?.updatedReplicas ?? 0) >= 1, 'a new pod was created');
  });

  test('a ServiceAccount bound to a get/patch-deployments Role can do exactly that', { timeout: 60_000 }, async () => {
    const admin = clientsFor(contextA);
    const namespace = await namespaceFor(admin, 'rbac');
    const other = await namespaceFor(admin, 'rbac-other');
    await admin.core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'deployer' } } });
    await admin.rbac.createNamespacedRole({
      namespace,
      body: { metadata: { name: 'deployer' }, rules: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'patch'] }] },
    });
    await admin.rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: 'deployer' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'deployer' },
        subjects: [{ kind: 'ServiceAccount', name: 'deployer', namespace }],
      },
    });
    await admin.core.createNamespacedSecret({ namespace, body: { metadata: { name: 'db' }, stringData: { password: 'x' } } });
    await admin.apps.createNamespacedDeployment({ namespace, body: deployment('svc', 'registry.local/svc:1', { replicas: 1 }) });

    const user = `system:serviceaccount:${namespace}:deployer`;
    const allowed = async (verb: string, resource: string, group: string, ns = namespace) => {
      const review = await admin.authz.createSubjectAccessReview({
        body: { spec: { user, groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'], resourceAttributes: { namespace: ns, verb, resource, group } } },
      });
      return review.status?.allowed === true;
    };
    assert.equal(await allowed('get', 'deployments', 'apps'), true);
    assert.equal(await allowed('patch', 'deployments', 'apps'), true);
    assert.equal(await allowed('list', 'deployments', 'apps'), false);
    assert.equal(await allowed('delete', 'deployments', 'apps'), false);
    assert.equal(await allowed('get', 'deployments', 'apps', other), false);
    assert.equal(await allowed('get', 'secrets', ''), false);

    // The same through a real token of the ServiceAccount (signed with the stack's service-account key).
    const tokenRequest = await admin.core.createNamespacedServiceAccountToken({ name: 'deployer', namespace, body: { spec: { audiences: [], expirationSeconds: 600 } } });
    const asDeployer = clientsFromConfig(contextA, tokenConfig(admin.kubeConfig, tokenRequest.status?.token ?? ''));
    assert.equal((await asDeployer.apps.readNamespacedDeployment({ name: 'svc', namespace })).metadata?.name, 'svc');
    await asDeployer.apps.patchNamespacedDeployment({ name: 'svc', namespace, body: [{ op: 'replace', path: '/spec/replicas', value: 2 }] });
    const forbidden = (error: unknown) => error instanceof ApiException && error.code === 403;
    await assert.rejects(asDeployer.core.readNamespacedSecret({ name: 'db', namespace }), forbidden);
    await assert.rejects(asDeployer.apps.listNamespacedDeployment({ namespace }), forbidden);
    await assert.rejects(asDeployer.apps.deleteNamespacedDeployment({ name: 'svc', namespace }), forbidden);
  });

  test('Knative and KafkaSource manifests pass server-side dry-run; a wrong field is rejected by name', { timeout: 90_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'upshift-knative-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    for (const context of [contextA, contextB]) {
      const namespace = await namespaceFor(clientsFor(context), 'knative');
      const valid = join(dir, `${context}-valid.yaml`);
      writeFileSync(valid, knativeManifests(namespace, 'bootstrapServers'));
      const ok = await kubectl(context, ['apply', '--dry-run=server', '-f', valid]);
      assert.equal(ok.code, 0, `${context}: ${ok.stderr}`);
      for (const kind of ['service.serving.knative.dev/plan', 'kafkasource.sources.knative.dev/plan', 'broker.eventing.knative.dev/default', 'trigger.eventing.knative.dev/plan', 'kafkasink.eventing.knative.dev/dead-letter']) {
        assert.match(ok.stdout, new RegExp(`${kind.replaceAll('.', '\\.')} created \\(server dry run\\)`));
      }

      const wrong = join(dir, `${context}-wrong.yaml`);
      writeFileSync(wrong, knativeManifests(namespace, 'bootstrapServer'));
      const rejected = await kubectl(context, ['apply', '--dry-run=server', '-f', wrong]);
      assert.notEqual(rejected.code, 0, 'a KafkaSource with a misspelled field is rejected');
      assert.match(rejected.stderr, /KafkaSource.*unknown field "spec\.bootstrapServer"/);

      const mistyped = join(dir, `${context}-mistyped.yaml`);
      writeFileSync(mistyped, knativeManifests(namespace, 'bootstrapServers').replace('containerConcurrency: 10', 'containerConcurrency: ten'));
      const typeError = await kubectl(context, ['apply', '--dry-run=server', '-f', mistyped]);
      assert.notEqual(typeError.code, 0, 'a Service with a string where an integer belongs is rejected');
      assert.match(typeError.stderr, /spec\.template\.spec\.containerConcurrency/);
    }
  });
});

/** A kubeconfig like `base` (same cluster and CA) that authenticates with a bearer token. */
function tokenConfig(base: KubeConfig, token: string): KubeConfig {
  const cluster = base.getCurrentCluster();
  if (!cluster) throw new Error('no current cluster');
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [cluster],
    users: [{ name: 'deployer', token }],
    contexts: [{ name: 'deployer', cluster: cluster.name, user: 'deployer' }],
    currentContext: 'deployer',
  });
  return config;
}

/** A Knative Service, Broker, Trigger, KafkaSink and KafkaSource; `serversField` lets a test misspell one. */
function knativeManifests(namespace: string, serversField: string): string {
  return `apiVersion: serving.knative.dev/v1
kind: Service
metadata: {name: plan, namespace: ${namespace}}
spec:
  template:
    metadata:
      annotations: {autoscaling.knative.dev/min-scale: "0"}
    spec:
      containerConcurrency: 10
      containers:
      - image: registry.local/upshift/plan:0.1.0
        ports: [{containerPort: 8080}]
        env: [{name: LOG_LEVEL, value: info}]
---
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata: {name: default, namespace: ${namespace}}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: plan, namespace: ${namespace}}
spec:
  broker: default
  filter: {attributes: {type: dev.upshift.upgrade.requested.v1}}
  subscriber: {ref: {apiVersion: serving.knative.dev/v1, kind: Service, name: plan}}
---
apiVersion: eventing.knative.dev/v1alpha1
kind: KafkaSink
metadata: {name: dead-letter, namespace: ${namespace}}
spec:
  topic: upshift.dead-letter
  bootstrapServers: [kafka.kafka.svc:9092]
---
apiVersion: sources.knative.dev/v1beta1
kind: KafkaSource
metadata: {name: plan, namespace: ${namespace}}
spec:
  consumerGroup: upshift-plan
  ${serversField}: [kafka.kafka.svc:9092]
  topics: [upshift.plan]
  sink: {ref: {apiVersion: serving.knative.dev/v1, kind: Service, name: plan}}
  delivery:
    retry: 5
    backoffPolicy: exponential
    backoffDelay: PT0.5S
    deadLetterSink: {ref: {apiVersion: eventing.knative.dev/v1alpha1, kind: KafkaSink, name: dead-letter}}
`;
}
