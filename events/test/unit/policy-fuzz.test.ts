/**
 * A seeded fuzz of the request parser: 1,000 policies mutated from the example policy and the test
 * policy (values replaced by hostile ones, keys added or removed, cross-references broken, YAML text
 * cut and spliced). Every input is accepted or rejected with bounded problems that each name a path;
 * nothing throws. The seed is printed; rerun one with UPSHIFT_TEST_SEED=<seed>.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { parsePolicy, parsePolicyYaml, problemLimits, type PolicyResult } from '../../src/index.ts';
import { testPolicy } from '../../../test/support/policy.ts';
import { seededRandom, seedLine, testSeed } from '../../../test/support/seeded-random.ts';

const exampleText = readFileSync(new URL('../../../examples/policy.yaml', import.meta.url), 'utf8');
const seed = testSeed();
const inputs = 1000;
// eslint-disable-next-line no-control-regex -- the test looks for control characters that escaped escaping
const unsafe = /[\u0000-\u001f\u007f-\u009f\u2028-\u202e\u2066-\u2069]/;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function fuzzer(random: () => number) {
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(list: readonly T[]): T => list[int(list.length)] as T;
  const strings = [
    '', ' ', 'a', 'UPPER', 'a_b', '-a', 'a-', 'x'.repeat(64), 'y'.repeat(300), 'z'.repeat(5000), '..', '.', 'a/b', 'a\nb',
    '\u0000', '\u001b[31mred\u001b[0m', '\u202egnp.exe', 'line1\r\nline2', '😀', '\ud800', 'registry.local/shop/x:1.0.0',
    'shop/app@sha256:' + 'a'.repeat(64), 'x@1', 'orders-currency@1', 'upshift-a', 'upshift-b', 'customers', 'orders', 'storefront',
    'Deployment', 'StatefulSet', 'rollback', 'freeze', 'upshift.dev/v1alpha1', 'UpgradePolicy', '__proto__', 'constructor', 'toString',
  ];
  const scalar = (): Json => pick<() => Json>([
    () => pick(strings), () => int(10) - 3, () => random() * 1e6, () => 2 ** 53 + 1, () => -0, () => null, () => random() < 0.5,
    () => pick(strings).repeat(1 + int(3)),
  ])();
  const value = (depth = 0): Json => {
    const roll = random();
    if (depth > 3 || roll < 0.6) return scalar();
    if (roll < 0.8) return Array.from({ length: int(4) }, () => value(depth + 1));
    return Object.fromEntries(Array.from({ length: int(4) }, () => [pick(strings), value(depth + 1)]));
  };
  /** A random container inside `doc` (object or array), with the key of a child in it. */
  const spot = (doc: Json): { parent: Json[] | { [key: string]: Json }; key: string | number } | undefined => {
    let node = doc;
    let found: { parent: Json[] | { [key: string]: Json }; key: string | number } | undefined;
    for (let depth = 0; depth < 6 && typeof node === 'object' && node !== null; depth += 1) {
      const keys: Array<string | number> = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
      if (keys.length === 0) break;
      const key = pick(keys);
      found = { parent: node, key };
      if (random() < 0.3) break;
      node = (node as Record<string | number, Json>)[key] ?? null;
    }
    return found;
  };
  const mutations: Array<(doc: Json) => void> = [
    (doc) => { const s = spot(doc); if (s) (s.parent as Record<string | number, Json>)[s.key] = value(); },
    (doc) => { const s = spot(doc); if (s && !Array.isArray(s.parent)) delete s.parent[s.key as string]; else if (s) (s.parent as Json[]).splice(s.key as number, 1); },
    (doc) => { const s = spot(doc); const target = s && (s.parent as Record<string | number, Json>)[s.key]; if (target && typeof target === 'object' && !Array.isArray(target)) target[pick(strings)] = value(); },
    (doc) => { const s = spot(doc); const target = s && (s.parent as Record<string | number, Json>)[s.key]; if (Array.isArray(target) && target.length > 0) target.push(...Array.from({ length: 1 + int(600) }, () => structuredClone(pick(target)))); },
    (doc) => { const services = (doc as { spec?: { services?: Json } }).spec?.services; if (Array.isArray(services)) for (const s of services) if (s && typeof s === 'object' && !Array.isArray(s)) s['dependsOn'] = services.filter(() => random() < 0.4).map((o) => (o && typeof o === 'object' && !Array.isArray(o) ? o['name'] ?? null : null)); },
    (doc) => { const meta = (doc as { metadata?: Json }).metadata; if (meta && typeof meta === 'object' && !Array.isArray(meta)) meta['labels'] = Object.fromEntries(Array.from({ length: int(70) }, () => [pick(strings), pick(strings)])); },
    (doc) => { const spec = (doc as { spec?: Json }).spec; if (spec && typeof spec === 'object' && !Array.isArray(spec)) spec['dryRun'] = random() < 0.5; },
  ];
  /** Text mutations of a YAML rendering: cut, splice, anchors and aliases. */
  const textMutations: Array<(text: string) => string> = [
    (text) => { const at = int(text.length); return text.slice(0, at) + text.slice(at + 1 + int(20)); },
    (text) => { const at = int(text.length); return text.slice(0, at) + pick(['\n', '\t', ':', '&a ', '*a', '[', '{', '- ', '"', '\u0000', '---\n', '<<: *a\n', '!!binary ']) + text.slice(at); },
    (text) => text.replace(/^(\s*)name: (\S+)$/m, '$1name: &a $2').replace(/container: \S+/g, 'container: *a'),
  ];
  return { int, pick, mutations, textMutations, random };
}

function assertAnswered(result: PolicyResult, context: string): void {
  if (result.ok) return;
  assert.ok(result.problems.length >= 1 && result.problems.length <= problemLimits.listed, `${context}: ${result.problems.length} problems`);
  for (const p of result.problems) {
    assert.ok(typeof p.path === 'string' && p.path.length > 0 && p.path.length <= problemLimits.textChars, `${context}: path ${JSON.stringify(p.path)}`);
    assert.ok(typeof p.message === 'string' && p.message.length > 0 && p.message.length <= problemLimits.textChars, `${context}: message ${JSON.stringify(p.message)}`);
    assert.doesNotMatch(p.path + p.message, unsafe, `${context}: unescaped control character in ${JSON.stringify(p)}`);
  }
}

test(`1,000 mutated policies are each accepted or rejected with a path, and nothing throws (seed ${seed})`, () => {
  console.log(`policy fuzz ${seedLine(seed)}`);
  const f = fuzzer(seededRandom(seed));
  const bases = [parse(exampleText) as Json, testPolicy('fuzz', [{ name: 'api', image: 'shop/api:2' }, { name: 'web', image: 'shop/web:3', dependsOn: ['api'] }]) as unknown as Json];
  let accepted = 0;
  for (let i = 0; i < inputs; i += 1) {
    const doc = structuredClone(f.pick(bases));
    const count = f.int(4);
    for (let m = 0; m < count; m += 1) f.pick(f.mutations)(doc);
    const context = `seed ${seed}, input ${i}`;
    let result: PolicyResult;
    if (f.random() < 0.4) {
      let text = stringify(doc);
      for (let m = f.int(3); m > 0; m -= 1) text = f.pick(f.textMutations)(text);
      result = parsePolicyYaml(text);
    } else {
      result = parsePolicy(doc);
    }
    assertAnswered(result, context);
    if (result.ok) accepted += 1;
  }
  console.log(`policy fuzz: ${accepted} accepted, ${inputs - accepted} rejected`);
  assert.ok(accepted > 0 && accepted < inputs, `the fuzz should produce both outcomes (${accepted} accepted)`);
});
