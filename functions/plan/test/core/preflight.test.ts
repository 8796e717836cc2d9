import assert from 'node:assert/strict';
import { test } from 'node:test';
import { preflightProblems, type WorkloadSeen } from '../../src/core/preflight.ts';

const workload = (overrides: Partial<WorkloadSeen>): WorkloadSeen => ({
  service: 'web', index: 0, cluster: 'a', namespace: 'shop', kind: 'Deployment', name: 'web', container: 'app',
  found: true, containerFound: true, currentImage: 'shop/web:1', deniedVerbs: [], ...overrides,
});

test('preflight: nothing wrong, no problems', () => {
  const problems = preflightProblems({
    clusters: [{ cluster: 'a', index: 0, reachable: true }],
    workloads: [workload({})],
    migrations: [{ ref: 'orders@1', index: 0, inCatalog: true, reachable: true }],
  });
  assert.deepEqual(problems, []);
});

test('preflight: lists every problem with its field path, not just the first', () => {
  const problems = preflightProblems({
    clusters: [
      { cluster: 'a', index: 0, reachable: true },
      { cluster: 'b', index: 1, reachable: false, error: 'connect ECONNREFUSED 127.0.0.1:56444' },
    ],
    workloads: [
      workload({ found: false }),
      workload({ service: 'api', index: 1, name: 'api', containerFound: false }),
      workload({ service: 'db', index: 2, kind: 'StatefulSet', name: 'db', deniedVerbs: ['patch'] }),
      workload({ cluster: 'b', found: undefined }),
    ],
    migrations: [
      { ref: 'ghost@1', index: 0, inCatalog: false },
      { ref: 'orders@1', index: 1, inCatalog: true, reachable: false, error: 'password authentication failed' },
      { ref: 'lines@1', index: 2, inCatalog: true, reachable: true, mismatch: 'key: table public.order_lines has a composite primary key (order_id, line_no); upshift pages over a single-column key' },
    ],
  });
  assert.deepEqual(problems, [
    { path: 'spec.clusters[1]', message: 'cluster b is unreachable: connect ECONNREFUSED 127.0.0.1:56444' },
    { path: 'spec.services[0].workload', message: 'Deployment shop/web in cluster a does not exist' },
    { path: 'spec.services[1].container', message: 'Deployment shop/api in cluster a has no container named app' },
    { path: 'spec.services[2]', message: 'rollout may not patch statefulsets in namespace shop of cluster a' },
    { path: 'spec.migrations[0].ref', message: 'migration ghost@1 is not in the catalog' },
    { path: 'spec.migrations[1].ref', message: 'the data store of orders@1 is unreachable: password authentication failed' },
    { path: 'spec.migrations[2].ref', message: 'migration lines@1 does not fit its data store: key: table public.order_lines has a composite primary key (order_id, line_no); upshift pages over a single-column key' },
  ]);
});
