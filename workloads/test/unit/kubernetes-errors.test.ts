import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiException } from '@kubernetes/client-node';
import { classifyKubernetesError, networkReason } from '../../src/kubernetes-errors.ts';
import type { WorkloadRef } from '../../src/workload.ts';

const ref: WorkloadRef = { cluster: 'upshift-b', namespace: 'shop', kind: 'Deployment', name: 'web', container: 'app' };
const api = (code: number, message = 'boom') => new ApiException(code, message, JSON.stringify({ message }), {});

const cases: Array<{ name: string; error: unknown; retriable: boolean; message: RegExp }> = [
  { name: '403 is permanent and names verb, resource and namespace', error: api(403), retriable: false, message: /^forbidden: cannot patch deployments in namespace shop of cluster upshift-b$/ },
  { name: '404 is permanent and names the workload', error: api(404), retriable: false, message: /^not found: Deployment shop\/web in cluster upshift-b$/ },
  { name: '409 conflict is retried', error: api(409, 'the object has been modified'), retriable: true, message: /answered 409 .*the object has been modified/ },
  { name: '500 is retried', error: api(500), retriable: true, message: /answered 500/ },
  { name: '503 is retried', error: api(503), retriable: true, message: /answered 503/ },
  { name: '429 is retried', error: api(429), retriable: true, message: /answered 429/ },
  { name: '422 invalid is permanent with the API message', error: api(422, 'spec.template.spec.containers[0].image: Required value'), retriable: false, message: /invalid patch of Deployment shop\/web .*Required value/ },
  { name: 'a refused connection is retried as unreachable', error: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:56452'), { code: 'ECONNREFUSED' }), retriable: true, message: /^cluster upshift-b unreachable during patch of Deployment shop\/web/ },
];

for (const c of cases) {
  test(`kubernetes errors: ${c.name}`, () => {
    const failure = classifyKubernetesError(c.error, 'patch', ref);
    assert.equal(failure.retriable, c.retriable);
    assert.match(failure.message, c.message);
  });
}

const refused = (port: number) => Object.assign(new Error(`connect ECONNREFUSED 127.0.0.1:${port}`), { code: 'ECONNREFUSED' });

test('kubernetes errors: an unanswered request names its network cause, not just "fetch failed"', () => {
  const failure = classifyKubernetesError(new TypeError('fetch failed', { cause: refused(56452) }), 'patch', ref);
  assert.equal(failure.message, 'cluster upshift-b unreachable during patch of Deployment shop/web in cluster upshift-b: fetch failed: connect ECONNREFUSED 127.0.0.1:56452');
});

const reasons: Array<{ name: string; error: unknown; reason: string }> = [
  { name: 'a plain error', error: new Error('The operation was aborted due to timeout'), reason: 'The operation was aborted due to timeout' },
  { name: 'a code the cause message lacks', error: new TypeError('fetch failed', { cause: Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }) }), reason: 'fetch failed: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)' },
  { name: 'every address tried', error: new TypeError('fetch failed', { cause: Object.assign(new AggregateError([refused(1), refused(2)], ''), { code: 'ECONNREFUSED' }) }), reason: 'fetch failed: connect ECONNREFUSED 127.0.0.1:1; connect ECONNREFUSED 127.0.0.1:2' },
  { name: 'not an error', error: 'boom', reason: 'boom' },
];

for (const c of reasons) {
  test(`network reason: ${c.name}`, () => assert.equal(networkReason(c.error), c.reason));
}
