/** The batching rules of preflight's reads: requests per namespace, not per workload, and each workload's facts from them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  deniedVerbsOf, namespaceQuestions, namespaceReads, questionKey, workloadFacts, type WorkloadKey,
} from '../../src/core/batched-reads.ts';

const key = (namespace: string, name: string, kind: WorkloadKey['kind'] = 'Deployment', container = 'app'): WorkloadKey => ({ namespace, kind, name, container });

test('a thousand workloads in three namespaces are read with one request per namespace and kind', () => {
  const keys = Array.from({ length: 1000 }, (_, i) => key(`ns-${i % 3}`, `svc-${i}`));
  keys.push(key('ns-0', 'db', 'StatefulSet'), key('ns-0', 'cache', 'StatefulSet'));
  const reads = namespaceReads(keys);
  assert.deepEqual(reads.map((r) => `${r.namespace}/${r.kind}/${r.request}/${r.names.length}`), [
    'ns-0/Deployment/list/334', 'ns-0/StatefulSet/list/2', 'ns-1/Deployment/list/333', 'ns-2/Deployment/list/333',
  ]);
  assert.deepEqual(reads[1]?.names, ['cache', 'db'], 'names sorted');
});

test('a single workload of a kind in a namespace is a get; the same workload named twice is read once', () => {
  const reads = namespaceReads([key('shop', 'web'), key('shop', 'web', 'Deployment', 'sidecar'), key('pay', 'ledger', 'StatefulSet')]);
  assert.deepEqual(reads, [
    { namespace: 'pay', kind: 'StatefulSet', names: ['ledger'], request: 'get' },
    { namespace: 'shop', kind: 'Deployment', names: ['web'], request: 'get' },
  ]);
});

test('access questions: one per namespace, resource and verb, whatever the number of workloads', () => {
  const keys = [...Array.from({ length: 500 }, (_, i) => key('a', `w${i}`)), key('b', 'x'), key('b', 'db', 'StatefulSet')];
  const questions = namespaceQuestions(keys, ['get', 'patch']);
  assert.deepEqual(questions.map(questionKey).sort(), [
    'a/deployments/get', 'a/deployments/patch', 'b/deployments/get', 'b/deployments/patch', 'b/statefulsets/get', 'b/statefulsets/patch',
  ]);
});

test('a verb denied namespace-wide is judged by the answer about the workload by name', () => {
  const allowed = new Map([['shop/deployments/get', true], ['shop/deployments/patch', false]]);
  assert.deepEqual(deniedVerbsOf(key('shop', 'web'), ['get', 'patch'], allowed, () => undefined), ['patch']);
  assert.deepEqual(deniedVerbsOf(key('shop', 'web'), ['get', 'patch'], allowed, (verb) => verb === 'patch'), [], 'a Role naming the workload grants it');
  assert.deepEqual(deniedVerbsOf(key('other', 'web'), ['get', 'patch'], allowed, () => false), ['get', 'patch'], 'an unasked namespace is not allowed');
});

test('facts of a workload: found with its image, missing, without the container, or not judged without get', () => {
  const images = new Map([['app', 'shop/web:1'], ['sidecar', 'envoy:1']]);
  assert.deepEqual(workloadFacts(key('shop', 'web'), images, []), { found: true, containerFound: true, currentImage: 'shop/web:1', deniedVerbs: [] });
  assert.deepEqual(workloadFacts(key('shop', 'web', 'Deployment', 'db'), images, ['patch']), { found: true, containerFound: false, deniedVerbs: ['patch'] });
  assert.deepEqual(workloadFacts(key('shop', 'ghost'), undefined, []), { found: false, deniedVerbs: [] });
  assert.deepEqual(workloadFacts(key('shop', 'web'), images, ['get', 'patch']), { deniedVerbs: ['get', 'patch'] });
});
