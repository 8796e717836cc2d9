/** Support of plan's handler tests: the fixture `upgrade.requested` with its services moved to a test's namespace. */
import type { EventData } from '@upshift/events';
import { fixtureEvent } from '../../../test/support/handler.ts';

/** The fixture policy's services, as the tests change them. */
export interface ServiceSpec { name: string; namespace: string; container: string; image: string; dependsOn?: string[]; clusters: string[]; workload: { kind: string; name: string } }
/** The fixture policy's spec, as the tests change it. */
export interface PolicySpec { services: ServiceSpec[]; migrations: unknown[]; strategy: { failurePolicy: string }; dryRun: boolean }

/** The fixture request for `runId`, its services moved to `namespace` (container `app`, no migrations), then `change`. */
export function upgradeRequestedIn(namespace: string, runId: string, change: (spec: PolicySpec) => void = () => undefined) {
  return fixtureEvent('upgrade.requested', (data): EventData<'upgrade.requested'> => {
    const policy = data.policy as typeof data.policy & { spec: PolicySpec };
    policy.metadata.name = `shop-${namespace}`;
    for (const service of policy.spec.services) Object.assign(service, { namespace, container: 'app' });
    policy.spec.migrations = [];
    change(policy.spec);
    return { ...data, runId };
  });
}
