/**
 * Every request is bounded and every answer about it is bounded: oversized, deep and hostile policies
 * are rejected with a short list of escaped, cut problems that name their field, and nothing throws.
 * Labels and Secret keys follow Kubernetes' rules.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import {
  boundText, findCycle, parsePolicy, parsePolicyYaml, PolicyInvalid, policyLimits, problemLimits, MORE_PROBLEMS_PATH, type PolicyResult,
} from '../../src/index.ts';
import { policySchema } from '../../src/generate/jsonschema.ts';

const exampleText = readFileSync(new URL('../../../examples/policy.yaml', import.meta.url), 'utf8');
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test-only: mutate the parsed YAML freely
type Doc = Record<string, any>;
const example = (): Doc => parse(exampleText) as Doc;
// eslint-disable-next-line no-control-regex -- the test looks for control characters that escaped escaping
const unsafe = /[\u0000-\u001f\u007f-\u009f\u2028-\u202e\u2066-\u2069]/;

function problemsOf(result: PolicyResult) {
  assert.equal(result.ok, false, 'expected the policy to be rejected');
  return result.ok ? [] : result.problems;
}

/** Asserts the problems are bounded: few, short, escaped, each with a path. */
function assertBounded(result: PolicyResult): void {
  const problems = problemsOf(result);
  assert.ok(problems.length >= 1 && problems.length <= problemLimits.listed, `${problems.length} problems`);
  for (const p of problems) {
    assert.ok(p.path.length > 0 && p.path.length <= problemLimits.textChars, `path of ${p.path.length} chars`);
    assert.ok(p.message.length > 0 && p.message.length <= problemLimits.textChars, `message of ${p.message.length} chars`);
    assert.doesNotMatch(p.path + p.message, unsafe, 'control characters are escaped');
  }
}

/** A minimal valid service (small on the wire) named `name`. */
function service(name: string, dependsOn: string[] = [], clusters = ['upshift-a']) {
  return { name, clusters, namespace: 'shop', workload: { kind: 'Deployment', name }, container: 'app', image: 'shop/app:1', dependsOn };
}

function withServices(services: unknown[]): Doc {
  const doc = example();
  doc.spec.services = services;
  doc.spec.migrations = [];
  return doc;
}

test('a 40 KB request of unknown keys gets at most 50 short problems ending with "and N more"', () => {
  const doc = example();
  for (let i = 0; i < 400; i += 1) doc.spec[`${'k'.repeat(100)}${i}\n\u001b[31mred`] = 1;
  assert.ok(JSON.stringify(doc).length > 40_000);
  const result = parsePolicy(doc);
  assertBounded(result);
  const problems = problemsOf(result);
  assert.equal(problems.length, problemLimits.listed);
  assert.deepEqual(problems.at(-1), { path: MORE_PROBLEMS_PATH, message: 'and 351 more problem(s) not listed' });
  assert.match(problems[0]?.path ?? '', /^spec\["k+…"\]$/);
  assert.ok(JSON.stringify(problems).length < 20_000, `${JSON.stringify(problems).length} bytes of problems`);
  assert.throws(() => { throw new PolicyInvalid(problems); }, (err: Error) => err.message.length < 20_000);
});

test('control characters in keys are escaped in the path that names them', () => {
  const doc = example();
  doc.spec.services[0]['evil\n{"level":"fatal"}\u001b[2J\u202e'] = 1;
  const [problem] = problemsOf(parsePolicy(doc));
  assert.equal(problem?.path, 'spec.services[0]["evil\\n{\\"level\\":\\"fatal\\"}\\x1b[2J\\u202e"]');
  assert.equal(problem?.message, 'unknown field');
});

test('huge invalid values are not echoed whole', () => {
  const doc = example();
  doc.spec.services[1].dependsOn = ['x'.repeat(100_000)];
  doc.metadata.name = 'y'.repeat(100_000);
  const result = parsePolicy(doc);
  assertBounded(result);
  assert.ok(problemsOf(result).some((p) => p.path === 'spec.services[1].dependsOn[0]' && /^unknown service "x+…"$/.test(p.message)));
});

test('a policy larger than the document limit is rejected before it is walked', () => {
  const services = Array.from({ length: 6000 }, (_, i) => service(`s${i}`, i > 0 ? [`s${i - 1}`] : []));
  const started = performance.now();
  const problems = problemsOf(parsePolicy(withServices(services)));
  assert.ok(performance.now() - started < 1000);
  assert.deepEqual(problems, [{ path: '(root)', message: 'the policy is larger than 512 KiB as JSON; split the upgrade into smaller requests' }]);
});

test('more services than the limit are rejected at spec.services', () => {
  const services = Array.from({ length: policyLimits.services + 1 }, (_, i) => service(`s${i}`, i > 0 ? [`s${i - 1}`] : []));
  const problems = problemsOf(parsePolicy(withServices(services)));
  assert.ok(problems.some((p) => p.path === 'spec.services' && p.message === 'must list at most 1000 services'), JSON.stringify(problems));
});

test('more (service, cluster) pairs than the limit are rejected at spec.services', () => {
  const clusters = ['upshift-a', 'upshift-b', 'upshift-c'];
  const services = Array.from({ length: 667 }, (_, i) => service(`s${i}`, [], clusters));
  const doc = withServices(services);
  doc.spec.clusters = clusters.map((name) => ({ name, context: name }));
  doc.spec.strategy.clusterOrder = clusters;
  const problems = problemsOf(parsePolicy(doc));
  assert.deepEqual(problems, [{ path: 'spec.services', message: 'must name at most 2000 (service, cluster) pairs; these services name 2001' }]);
});

test('a dependsOn chain as long as the limits allow is valid, and findCycle needs no recursion', () => {
  const services = Array.from({ length: policyLimits.services }, (_, i) => service(`s${i}`, i > 0 ? [`s${i - 1}`] : []));
  const result = parsePolicy(withServices(services));
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  const chain = new Map(Array.from({ length: 50_000 }, (_, i) => [`s${i}`, i < 49_999 ? [`s${i + 1}`] : []])); // s0 is 50,000 deep
  assert.equal(findCycle(chain), undefined);
  chain.set('s49999', ['s0']);
  const cycle = findCycle(chain);
  assert.equal(cycle?.length, 50_001);
  assert.deepEqual([cycle?.[0], cycle?.[1], cycle?.at(-1)], ['s0', 's1', 's0']);
});

test('a YAML alias bomb is refused by name, quickly', () => {
  const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 9; i += 1) levels.push(`${'abcdefghi'[i]}: &${'abcdefghi'[i]} [${Array(9).fill(`*${'abcdefghi'[i - 1]}`).join(',')}]`);
  const started = performance.now();
  const problems = problemsOf(parsePolicyYaml(levels.join('\n')));
  assert.ok(performance.now() - started < 2000);
  assert.equal(problems.length, 1);
  assert.equal(problems[0]?.path, '(yaml)');
  assert.match(problems[0]?.message ?? '', /alias bomb/);
});

test('hostile YAML and values are problems, not exceptions', () => {
  const deepYaml = `${'['.repeat(30_000)}${']'.repeat(30_000)}`;
  assertBounded(parsePolicyYaml(deepYaml));
  assertBounded(parsePolicyYaml(`metadata: x\n${'#'.repeat(policyLimits.documentBytes)}`));
  let deep: unknown = {};
  for (let i = 0; i < 100_000; i += 1) deep = { deep };
  const doc = example();
  doc.metadata.deep = deep;
  assertBounded(parsePolicy(doc));
  const cyclic = example();
  cyclic.spec.self = cyclic;
  assertBounded(parsePolicy(cyclic));
});

test('labels follow Kubernetes rules', () => {
  const valid = example();
  valid.metadata.labels = { 'app.kubernetes.io/name': 'shop', tier: '', 'example.com/x_y.z': 'A-1.b_c', [`${'p'.repeat(253)}/${'n'.repeat(63)}`]: 'v'.repeat(63) };
  const result = parsePolicy(valid);
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  const cases: Array<[Record<string, string>, string]> = [
    [{ 'a\u0000b': 'v' }, 'metadata.labels["a\\x00b"]'],
    [{ ok: '\u001b[31mred' }, 'metadata.labels.ok'],
    [{ ok: 'line\nbreak' }, 'metadata.labels.ok'],
    [{ 'has space': 'v' }, 'metadata.labels["has space"]'],
    [{ [`n${'a'.repeat(63)}`]: 'v' }, `metadata.labels.n${'a'.repeat(63)}`],
    [{ '': 'v' }, 'metadata.labels[""]'],
    [{ '/name': 'v' }, 'metadata.labels["/name"]'],
    [{ 'a/b/c': 'v' }, 'metadata.labels["a/b/c"]'],
    [{ 'Example.com/name': 'v' }, 'metadata.labels["Example.com/name"]'],
    [{ ok: 'ends-' }, 'metadata.labels.ok'],
    [{ ok: 'v'.repeat(64) }, 'metadata.labels.ok'],
    [{ [`${'p'.repeat(254)}/n`]: 'v' }, `metadata.labels["${'p'.repeat(63)}…"]`],
    [Object.fromEntries(Array.from({ length: policyLimits.labels + 1 }, (_, i) => [`l${i}`, 'v'])), 'metadata.labels'],
  ];
  for (const [labels, path] of cases) {
    const doc = example();
    doc.metadata.labels = labels;
    const problems = problemsOf(parsePolicy(doc));
    assert.ok(problems.some((p) => p.path === path), `${JSON.stringify(labels).slice(0, 80)}: no problem at ${path}; got ${JSON.stringify(problems)}`);
  }
});

test('secretRef.key follows Kubernetes Secret key rules', () => {
  const withKey = (key: string) => {
    const doc = example();
    doc.spec.clusters[0] = { name: 'upshift-a', secretRef: { name: 'kubeconfigs', key } };
    return parsePolicy(doc);
  };
  for (const key of ['config', '.kube-config', 'a..b', 'k'.repeat(253)]) assert.ok(withKey(key).ok, key);
  for (const key of ['.', '..', '', 'a/b', 'with space', 'nul\u0000', 'k'.repeat(254)]) {
    const problems = problemsOf(withKey(key));
    assert.ok(problems.some((p) => p.path === 'spec.clusters[0].secretRef.key'), `${JSON.stringify(key)}: ${JSON.stringify(problems)}`);
  }
});

test('the generated JSON Schema states the limits', () => {
  const schema = JSON.stringify(policySchema());
  for (const fragment of ['"maxItems":1000', '"maxItems":32', '"maxItems":64', '"maxItems":16', 'at most 512 KiB', 'at most 2000 (service, cluster) pairs', 'not \\".\\" or \\"..\\"']) {
    assert.ok(schema.includes(fragment), `the policy schema does not say ${fragment}`);
  }
});

test('boundText escapes, cuts with "…", keeps surrogate pairs whole, and is idempotent', () => {
  assert.equal(boundText('a\nb\u0007c\u009b'), 'a\\nb\\x07c\\x9b');
  assert.equal(boundText('x'.repeat(300)), `${'x'.repeat(199)}…`);
  assert.equal(boundText('😀'.repeat(150)).length <= problemLimits.textChars, true);
  assert.doesNotMatch(boundText(`a${'😀'.repeat(150)}`), /[\ud800-\udbff]…$/);
  for (const text of ['a\nb', 'x'.repeat(300), '\u202e'.repeat(100)]) assert.equal(boundText(boundText(text)), boundText(text));
});
