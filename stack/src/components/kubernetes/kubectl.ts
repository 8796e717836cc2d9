import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { run } from '../../run.ts';
import { kubeBinary, nodesPerCluster } from './layout.ts';
import type { ClusterLayout } from './layout.ts';

/** Runs the pinned kubectl against one cluster as its admin; output goes to the cluster's kubectl.log. */
export async function kubectl(layout: ClusterLayout, args: string[], what: string): Promise<void> {
  await run(kubeBinary('kubectl'), [`--kubeconfig=${layout.adminKubeconfig}`, ...args], {
    logTo: join(layout.dir, 'kubectl.log'),
    what: `${layout.name}: ${what}`,
  });
}

/** Node objects kwok takes over (--manage-all-nodes): no taints, so the scheduler uses them. */
export function fakeNodes(layout: ClusterLayout): Record<string, unknown>[] {
  return Array.from({ length: nodesPerCluster }, (_, i) => {
    const name = `${layout.name}-node-${i + 1}`;
    return {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name,
        annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
        labels: {
          'kubernetes.io/hostname': name,
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
          'kubernetes.io/role': 'agent',
          'topology.kubernetes.io/zone': `zone-${i + 1}`,
          type: 'kwok',
        },
      },
      spec: {},
    };
  });
}

/** Creates (or leaves as they are) the cluster's fake nodes. */
export async function applyFakeNodes(layout: ClusterLayout): Promise<void> {
  const file = join(layout.dir, 'nodes.yaml');
  writeFileSync(file, fakeNodes(layout).map((node) => stringify(node)).join('---\n'));
  await kubectl(layout, ['apply', '--server-side', '--field-manager=upshift-stack', '-f', file], `creating ${nodesPerCluster} kwok nodes`);
}
