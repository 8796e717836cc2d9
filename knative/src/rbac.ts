/**
 * Least-privilege identities. Each function has a ServiceAccount `upshift-<fn>` that mounts no API
 * token in its own pods (functions never call their own API server). In every target cluster, the
 * same ServiceAccount is the identity behind the kubeconfig the function mounts. Its workload rights
 * (spec.ts `targetRules`) are a ClusterRole bound by one RoleBinding in each namespace the install lists
 * (install.yaml `targetNamespaces`), so they hold there and nowhere else: no ClusterRoleBinding grants a
 * workload right. Only plan's cluster-scoped `create subjectaccessreviews` (spec.ts `clusterRules`) is
 * bound cluster-wide. migrate-shard gets no role at all. No rule names Secrets.
 */
import { labelsOf } from './service.ts';
import { deployments, NAMESPACE } from './spec.ts';
import type { FunctionDeployment, Rule } from './spec.ts';

const rbacGroup = 'rbac.authorization.k8s.io';

function rulesOf(rules: readonly Rule[]) {
  return rules.map((rule) => ({ apiGroups: [...rule.apiGroups], resources: [...rule.resources], verbs: [...rule.verbs] }));
}

function subjectOf(fn: FunctionDeployment) {
  return [{ kind: 'ServiceAccount', name: fn.resourceName, namespace: NAMESPACE }];
}

/** A function's ServiceAccount (no automounted token), in the install namespace. */
export function serviceAccount(fn: FunctionDeployment) {
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: fn.resourceName, namespace: NAMESPACE, labels: labelsOf(fn.name) },
    automountServiceAccountToken: false,
  };
}

/** The ClusterRole holding a function's workload rules, or null when it needs none. It grants nothing until a RoleBinding binds it in a namespace. */
export function workloadRole(fn: FunctionDeployment) {
  if (fn.targetRules.length === 0) return null;
  return { apiVersion: `${rbacGroup}/v1`, kind: 'ClusterRole', metadata: { name: fn.resourceName, labels: labelsOf(fn.name) }, rules: rulesOf(fn.targetRules) };
}

/** One RoleBinding per listed namespace, binding the function's workload ClusterRole there only. */
export function workloadBindings(fn: FunctionDeployment, targetNamespaces: readonly string[]) {
  if (fn.targetRules.length === 0) return [];
  return targetNamespaces.map((namespace) => ({
    apiVersion: `${rbacGroup}/v1`,
    kind: 'RoleBinding',
    metadata: { name: fn.resourceName, namespace, labels: labelsOf(fn.name) },
    roleRef: { apiGroup: rbacGroup, kind: 'ClusterRole', name: fn.resourceName },
    subjects: subjectOf(fn),
  }));
}

/** The cluster-scoped rules of a function (plan's access reviews) as a ClusterRole and its ClusterRoleBinding. */
export function clusterScopedAccess(fn: FunctionDeployment) {
  if (fn.clusterRules.length === 0) return [];
  const name = `${fn.resourceName}-cluster-scoped`;
  return [
    { apiVersion: `${rbacGroup}/v1`, kind: 'ClusterRole', metadata: { name, labels: labelsOf(fn.name) }, rules: rulesOf(fn.clusterRules) },
    {
      apiVersion: `${rbacGroup}/v1`, kind: 'ClusterRoleBinding', metadata: { name, labels: labelsOf(fn.name) },
      roleRef: { apiGroup: rbacGroup, kind: 'ClusterRole', name }, subjects: subjectOf(fn),
    },
  ];
}

/** The ServiceAccounts alone: what the cluster running the functions needs (their pods' identities). */
export function serviceAccounts(): Record<string, unknown>[] {
  return deployments.map(serviceAccount);
}

/** Every RBAC object of a target cluster, in a stable order. */
export function rbacObjects(targetNamespaces: readonly string[]): Record<string, unknown>[] {
  const objects: (Record<string, unknown> | null)[] = [];
  for (const fn of deployments) {
    objects.push(serviceAccount(fn), workloadRole(fn), ...workloadBindings(fn, targetNamespaces), ...clusterScopedAccess(fn));
  }
  return objects.filter((o): o is Record<string, unknown> => o !== null);
}
