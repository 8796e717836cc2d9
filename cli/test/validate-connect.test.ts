/**
 * `upshift validate --connect` runs plan's preflight against the stack's real clusters and stores and
 * publishes nothing: a workload that does not exist, a migration missing from the catalog and a store
 * whose variable is unset are each reported with their field path (exit 2); a policy whose workloads
 * exist and whose migrations' stores answer passes (exit 0).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { uniqueSuffix } from '../../runtime/test/support/stack.ts';
import { resetWorkloads } from '../src/demo/workloads.ts';
import { examplePolicy, upshift, writePolicy } from './support/run.ts';

const needsClusters = process.env.KUBECONFIG && process.env.UPSHIFT_KUBE_CONTEXTS ? false : 'KUBECONFIG not set: run through npm test';

test('validate --connect reports every preflight problem with its field path and exits 2, changing nothing', { skip: needsClusters }, async () => {
  const missing = `nope-${uniqueSuffix()}`;
  const policy = writePolicy(readFileSync(examplePolicy, 'utf8')
    .replace('workload: { kind: Deployment, name: storefront }', `workload: { kind: Deployment, name: ${missing} }`)
    .replace('ref: customers-profile@1', 'ref: customers-profile@9'));
  const env = { ...process.env, SHOP_DATABASE_URL: undefined, UPSHIFT_CATALOG_DIR: undefined };
  const { code, stdout, stderr } = await upshift(['validate', policy, '--connect'], env);
  assert.equal(code, 2, stderr);
  assert.match(stdout, /: valid UpgradePolicy shop-2026-11/, 'the policy itself is valid');
  assert.match(stderr, /preflight failed \(\d+ problems?; nothing was changed\)/);
  assert.match(stderr, new RegExp(`spec\\.services\\[2\\]\\.workload: Deployment shop/${missing} in cluster upshift-a does not exist`));
  assert.match(stderr, /spec\.migrations\[0\]\.ref: the data store of orders-currency@1 is unreachable: .*connection variable SHOP_DATABASE_URL is not set/);
  assert.match(stderr, /spec\.migrations\[1\]\.ref: migration customers-profile@9 is not in the catalog/);
  assert.doesNotMatch(stderr, /spec\.clusters/, 'both clusters answered');
});

test('validate --connect passes a policy whose clusters and workloads answer (exit 0)', { skip: needsClusters }, async () => {
  // One small Deployment of this test's own (same namespace and name every run: replaced, never piled up).
  await resetWorkloads([{ cluster: 'upshift-a', context: 'upshift-a', namespace: 'cli-validate', name: 'web', container: 'web', image: 'registry.local/cli/web:1.0.0', replicas: 1 }]);
  const policy = writePolicy(`apiVersion: upshift.dev/v1alpha1
kind: UpgradePolicy
metadata: { name: validate-connect }
spec:
  clusters: [{ name: upshift-a, context: upshift-a }]
  services:
    - { name: web, clusters: [upshift-a], namespace: cli-validate, workload: { kind: Deployment, name: web }, container: web, image: registry.local/cli/web:2.0.0 }
  migrations: []
  strategy: { clusterOrder: [upshift-a], soakSeconds: 0, failurePolicy: rollback }
`);
  const { code, stdout, stderr } = await upshift(['request', policy, '--dry-run', '--connect'], process.env);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /preflight passed: 1 cluster\(s\) reachable, 1 workload\(s\) found and patchable, 0 migration\(s\) ready/);
});
