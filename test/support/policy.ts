/** Building UpgradePolicy documents for tests. */

/** One service of a test policy: a Deployment `name` with container `app` in every listed cluster. */
export interface TestService {
  name: string;
  image: string;
  dependsOn?: string[];
  clusters?: string[];
}

/** A policy over the stack's clusters (canary upshift-a) for services in `namespace`. */
export function testPolicy(namespace: string, services: TestService[], options: {
  failurePolicy?: 'rollback' | 'freeze';
  dryRun?: boolean;
  clusters?: Array<{ name: string; context: string }>;
  progressDeadlineSeconds?: number;
  maxParallelServices?: number;
  soakSeconds?: number;
  migrations?: Array<{ ref: string }>;
} = {}) {
  const clusters = options.clusters ?? [{ name: 'upshift-a', context: 'upshift-a' }, { name: 'upshift-b', context: 'upshift-b' }];
  return {
    apiVersion: 'upshift.dev/v1alpha1',
    kind: 'UpgradePolicy',
    metadata: { name: `test-${namespace}` },
    spec: {
      clusters,
      services: services.map((s) => ({
        name: s.name,
        clusters: s.clusters ?? clusters.map((c) => c.name),
        namespace,
        workload: { kind: 'Deployment', name: s.name },
        container: 'app',
        image: s.image,
        dependsOn: s.dependsOn ?? [],
      })),
      migrations: options.migrations ?? [],
      strategy: {
        clusterOrder: clusters.map((c) => c.name),
        maxParallelServices: options.maxParallelServices ?? 2,
        soakSeconds: options.soakSeconds ?? 0,
        progressDeadlineSeconds: options.progressDeadlineSeconds ?? 60,
        failurePolicy: options.failurePolicy ?? 'rollback',
      },
      dryRun: options.dryRun ?? false,
    },
  };
}
