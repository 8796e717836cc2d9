/**
 * Which namespaces a policy may change: the ones the install lists (UPSHIFT_NAMESPACES), the same list
 * its RBAC grants rollout patch rights in (knative/install.yaml). A policy naming any other namespace is
 * rejected before plan reads a cluster, with the path of every service that names one.
 */
import type { FieldProblem, UpgradePolicy } from '@upshift/events';

/**
 * One problem per service whose namespace is outside `allowed`; none when `allowed` is undefined (no
 * limit: local development). The message names the namespace and the list, so the operator sees both.
 */
export function namespaceProblems(services: UpgradePolicy['spec']['services'], allowed: readonly string[] | undefined): FieldProblem[] {
  if (allowed === undefined) return [];
  const permitted = new Set(allowed);
  const listed = listOf(allowed);
  return services.flatMap((service, index) => (permitted.has(service.namespace) ? [] : [{
    path: `spec.services[${index}].namespace`,
    message: `namespace ${service.namespace} is not in the namespaces upshift may change (UPSHIFT_NAMESPACES: ${listed})`,
  }]));
}

/** At most 1000 characters of the list (a problem's message is bounded by the event schema). */
function listOf(allowed: readonly string[]): string {
  const joined = allowed.join(', ');
  if (joined.length <= 1000) return joined;
  const shown = joined.slice(0, 1000).replace(/,[^,]*$/, '');
  const count = shown.split(', ').length;
  return `${shown}, … (${allowed.length - count} more)`;
}
