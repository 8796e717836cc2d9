/**
 * Least-privilege identities. Each function has a ServiceAccount `upshift-<fn>` that mounts no API
 * token in its own pods (functions never call their own API server). In every target cluster, the
 * same ServiceAccount is the identity behind the kubeconfig the function mounts, bound to a ClusterRole
 * with exactly the rules spec.ts lists. migrate-shard gets no role at all. No rule names Secrets, and
 * no rule creates or deletes anything but SelfSubjectAccessReviews.
 */
import { labelsOf } from './service.ts';
import { deployments, NAMESPACE } from './spec.ts';
import type { FunctionDeployment } from './spec.ts';

/** A function's ServiceAccount (no automounted token). */
export function serviceAccount(fn: FunctionDeployment) {
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: fn.resourceName, labels: labelsOf(fn.name) },
    automountServiceAccountToken: false,
  };
}

/** The ClusterRole of a function's rights in target clusters, or null when it needs none. */
export function clusterRole(fn: FunctionDeployment) {
  if (fn.targetRules.length === 0) return null;
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: fn.resourceName, labels: labelsOf(fn.name) },
    rules: fn.targetRules.map((rule) => ({ apiGroups: [...rule.apiGroups], resources: [...rule.resources], verbs: [...rule.verbs] })),
  };
}

/** Binds the ClusterRole to the ServiceAccount (narrow it to RoleBindings per namespace in an overlay). */
export function clusterRoleBinding(fn: FunctionDeployment) {
  if (fn.targetRules.length === 0) return null;
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: fn.resourceName, labels: labelsOf(fn.name) },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: fn.resourceName },
    subjects: [{ kind: 'ServiceAccount', name: fn.resourceName, namespace: NAMESPACE }],
  };
}

/** Every RBAC object, in a stable order. */
export function rbacObjects(): Record<string, unknown>[] {
  const objects: (Record<string, unknown> | null)[] = [];
  for (const fn of deployments) objects.push(serviceAccount(fn), clusterRole(fn), clusterRoleBinding(fn));
  return objects.filter((o): o is Record<string, unknown> => o !== null);
}
