/**
 * knative/dashboard (hand-written, beside the generated base): it builds, passes the API server's
 * validation, and says what the README promises — its own read-only store secret, the token optional,
 * listening on all addresses only behind its NetworkPolicy, no service-account token, non-root.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { stringify } from 'yaml';
import { kubectl, kustomize, ofKind, type KubeObject } from '../../knative/test/support/kubectl.ts';
import { freshNamespace } from '../../test/support/kube.ts';

interface Container {
  args: string[];
  ports: Array<{ name: string; containerPort: number }>;
  env: Array<{ name: string; valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } } }>;
  securityContext: { runAsNonRoot?: boolean; readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean };
}
interface PodSpec { serviceAccountName: string; automountServiceAccountToken: boolean; containers: Container[] }

let built: KubeObject[];
let ns: Awaited<ReturnType<typeof freshNamespace>>;

before(async () => {
  built = await kustomize('knative/dashboard');
  ns = await freshNamespace('dashboard');
});
after(async () => {
  await ns?.remove();
});

test('the dashboard is a Deployment and a Service in the functions\' namespace, valid for the API server', async () => {
  // Its own ConfigMap (a hashed name kustomize writes into the Deployment): the base's is out of its sight.
  assert.deepEqual(built.map((o) => `${o.kind}/${o.metadata.name.replace(/^(upshift-dashboard-config)-[a-z0-9]+$/, '$1-<hash>')}`).sort(),
    ['ConfigMap/upshift-dashboard-config-<hash>', 'Deployment/upshift-dashboard', 'NetworkPolicy/upshift-dashboard-ingress', 'Service/upshift-dashboard', 'ServiceAccount/upshift-dashboard']);
  assert.ok(built.every((o) => o.metadata.namespace === 'upshift'));
  const moved = built.map((o) => ({ ...o, metadata: { ...o.metadata, namespace: ns.name } }));
  const result = await kubectl(['--context', 'upshift-a', 'apply', '--dry-run=server', '-o', 'name', '-f', '-'], moved.map((o) => stringify(o)).join('---\n'));
  assert.ok(result.ok, result.stderr);
});

test('it reads the store through its own secret, with controls only when the token secret exists', () => {
  const [deployment] = ofKind(built, 'Deployment');
  const pod = (deployment as unknown as { spec: { template: { spec: PodSpec } } }).spec.template.spec;
  const [container] = pod.containers;
  assert.ok(container);
  const secret = (name: string) => container.env.find((e) => e.name === name)?.valueFrom?.secretKeyRef;
  assert.deepEqual(secret('DATABASE_URL'), { name: 'upshift-dashboard-store', key: 'DATABASE_URL' }, 'not the functions\' read-write store secret');
  assert.deepEqual(secret('UPSHIFT_DASHBOARD_TOKEN'), { name: 'upshift-dashboard', key: 'token', optional: true });
  assert.deepEqual(container.args, ['dashboard', '--host', '0.0.0.0', '--port', '8090']);
  assert.equal(pod.automountServiceAccountToken, false, 'the dashboard needs no Kubernetes API');
  assert.deepEqual([container.securityContext.runAsNonRoot, container.securityContext.readOnlyRootFilesystem, container.securityContext.allowPrivilegeEscalation], [true, true, false]);
  const [policy] = ofKind(built, 'NetworkPolicy');
  const spec = (policy as unknown as { spec: { podSelector: { matchLabels: Record<string, string> }; ingress: Array<{ from: Array<{ podSelector: { matchLabels: Record<string, string> } }> }> } }).spec;
  assert.deepEqual(spec.podSelector.matchLabels, { 'app.kubernetes.io/name': 'upshift-dashboard' });
  assert.deepEqual(spec.ingress.flatMap((rule) => rule.from.map((peer) => peer.podSelector.matchLabels)), [{ 'upshift.dev/dashboard-client': 'true' }]);
});
