import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { UpgradePolicy } from '@upshift/events';
import { namespaceProblems } from '../../src/core/namespaces.ts';

type Services = UpgradePolicy['spec']['services'];

const services = (...namespaces: string[]): Services => namespaces.map((namespace, i) => ({
  name: `svc-${i}`, clusters: ['a'], namespace, workload: { kind: 'Deployment', name: `svc-${i}` }, container: 'app', image: `registry.local/svc-${i}:2`, dependsOn: [],
}) as Services[number]);

const cases: readonly { name: string; namespaces: string[]; allowed: string[] | undefined; paths: string[] }[] = [
  { name: 'no list (local development): every namespace', namespaces: ['shop', 'kube-system'], allowed: undefined, paths: [] },
  { name: 'every service in a listed namespace', namespaces: ['shop', 'payments', 'shop'], allowed: ['shop', 'payments'], paths: [] },
  { name: 'kube-system is refused like any unlisted namespace', namespaces: ['shop', 'payments', 'shop', 'kube-system'], allowed: ['shop', 'payments'], paths: ['spec.services[3].namespace'] },
  { name: 'every offending service is named, not just the first', namespaces: ['default', 'shop', 'billing'], allowed: ['shop'], paths: ['spec.services[0].namespace', 'spec.services[2].namespace'] },
  { name: 'names are compared exactly (no prefix match)', namespaces: ['shop-staging'], allowed: ['shop'], paths: ['spec.services[0].namespace'] },
];

for (const { name, namespaces, allowed, paths } of cases) {
  test(`namespaceProblems: ${name}`, () => {
    assert.deepEqual(namespaceProblems(services(...namespaces), allowed).map((p) => p.path), paths);
  });
}

test('namespaceProblems: the message names the namespace and the list it is not in', () => {
  const [problem] = namespaceProblems(services('shop', 'payments', 'shop', 'kube-system'), ['shop', 'payments']);
  assert.deepEqual(problem, {
    path: 'spec.services[3].namespace',
    message: 'namespace kube-system is not in the namespaces upshift may change (UPSHIFT_NAMESPACES: shop, payments)',
  });
});

test('namespaceProblems: a long list is cut to fit the event schema (2000 characters a message)', () => {
  const allowed = Array.from({ length: 300 }, (_, i) => `team-namespace-${i}`);
  const [problem] = namespaceProblems(services('kube-system'), allowed);
  assert.ok(problem);
  assert.ok(problem.message.length < 1200, `${problem.message.length} characters`);
  assert.match(problem.message, /^namespace kube-system is not in .*\(UPSHIFT_NAMESPACES: team-namespace-0, team-namespace-1, .*, … \(\d+ more\)\)$/);
  const shown = /UPSHIFT_NAMESPACES: (.*), … \((\d+) more\)/.exec(problem.message);
  assert.equal((shown?.[1]?.split(', ').length ?? 0) + Number(shown?.[2]), 300, 'shown plus "more" is the whole list');
});
