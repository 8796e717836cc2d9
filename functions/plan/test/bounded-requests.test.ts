/**
 * Bounded requests, always answered, through the real chain (Kafka, the dev dispatcher, plan over HTTP,
 * PostgreSQL): an oversized request (40 KB+ of unknown keys with control characters), a dependsOn chain
 * of 6,000 services, bad labels and a Secret key of ".." each get a short `upgrade.rejected` on the
 * lifecycle topic in their first delivery — no retry, no dead letter, no stack overflow.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { isEventOf, problemLimits, uuidv7, type AnyUpshiftEvent, type UpshiftEvent } from '@upshift/events';
import type { DeliveryOutcome } from '@upshift/runtime/dev';
import { startHarness, type Harness } from '../../../test/support/run.ts';
import { testPolicy } from '../../../test/support/policy.ts';

let harness: Harness;
const outcomes: Array<{ url: string; outcome: DeliveryOutcome }> = [];

before(async () => {
  harness = await startHarness(['plan'], { dev: { onOutcome: (target, outcome) => outcomes.push({ url: target.url, outcome }) } });
});

after(async () => {
  await harness?.stop();
});

/** The example services, in a namespace no test creates (the policy is rejected before any cluster is read). */
function policy(): { metadata: Record<string, unknown>; spec: Record<string, unknown> } {
  return testPolicy('bounded', [{ name: 'api', image: 'shop/api:2' }, { name: 'web', image: 'shop/web:3', dependsOn: ['api'] }]);
}

/** A dependsOn chain of `length` services, each as small as the schema allows (the request stays under Kafka's 1 MiB). */
function chainPolicy(length: number) {
  const doc = policy();
  doc.spec['clusters'] = [{ name: 'a', context: 'upshift-a' }];
  doc.spec['strategy'] = {};
  doc.spec['services'] = Array.from({ length }, (_, i) => ({
    name: `s${i}`, clusters: ['a'], namespace: 'n', workload: { kind: 'Deployment', name: 'w' }, container: 'c', image: 'i:1', dependsOn: i < length - 1 ? [`s${i + 1}`] : [],
  }));
  return doc;
}

/** Publishes `doc`, waits for its answer, and checks it is a short rejection answered in one delivery. */
async function rejected(doc: unknown): Promise<{ data: UpshiftEvent<'upgrade.rejected'>['data']; ms: number }> {
  const started = Date.now();
  const runId = await harness.request(doc, uuidv7());
  const event: AnyUpshiftEvent = await harness.waitFor(runId, ['upgrade.rejected', 'upgrade.planned', 'upgrade.failed'], 30_000);
  assert.ok(isEventOf(event, 'upgrade.rejected'), `expected upgrade.rejected, got ${event.type}`);
  assert.ok(event.data.problems.length >= 1 && event.data.problems.length <= problemLimits.listed);
  assert.ok(JSON.stringify(event.data).length < 25_000, `${JSON.stringify(event.data).length} bytes of rejection`);
  return { data: event.data, ms: Date.now() - started };
}

test('a 40 KB request of unknown keys is rejected at once with a short, escaped list', { timeout: 60_000 }, async () => {
  const doc = policy();
  for (let i = 0; i < 400; i += 1) doc.spec[`${'k'.repeat(100)}${i}\n\u001b[31m`] = 1;
  assert.ok(JSON.stringify(doc).length > 40_000);
  const { data, ms } = await rejected(doc);
  assert.equal(data.code, 'invalid-policy');
  assert.equal(data.problems.length, problemLimits.listed);
  assert.deepEqual(data.problems.at(-1), { path: '(more)', message: 'and 351 more problem(s) not listed' });
  assert.match(data.problems[0]?.path ?? '', /^spec\["k+…"\]$/);
  console.log(`40 KB request rejected in ${ms} ms`);
});

test('a dependsOn chain of 6,000 services is rejected, not a stack overflow', { timeout: 60_000 }, async () => {
  const doc = chainPolicy(6000);
  const bytes = Buffer.byteLength(JSON.stringify(doc));
  assert.ok(bytes > 600_000 && bytes < 900_000, `${bytes} bytes`);
  const { data, ms } = await rejected(doc);
  assert.deepEqual(data.problems, [{ path: '(root)', message: 'the policy is larger than 512 KiB as JSON; split the upgrade into smaller requests' }]);
  console.log(`6,000-service chain (${bytes} bytes) rejected in ${ms} ms`);
});

test('labels with control characters and a Secret key ".." are rejected at their fields', { timeout: 60_000 }, async () => {
  const doc = policy();
  doc.metadata['labels'] = { 'team\u0000': 'a', tier: 'x\u001b[2J', ['l'.repeat(64)]: 'v' };
  doc.spec['clusters'] = [{ name: 'upshift-a', secretRef: { name: 'kubeconfigs', key: '..' } }, { name: 'upshift-b', context: 'upshift-b' }];
  const { data } = await rejected(doc);
  assert.deepEqual(data.problems.map((p) => p.path).sort(), [
    'metadata.labels.tier', `metadata.labels.${'l'.repeat(64)}`, 'metadata.labels["team\\x00"]', 'spec.clusters[0].secretRef.key',
  ].sort());
});

test('every delivery to plan succeeded at its first attempt: nothing retried, nothing dead-lettered', () => {
  const toPlan = outcomes.filter((o) => o.outcome.kind !== 'dropped');
  assert.ok(toPlan.length >= 3, `${toPlan.length} deliveries`);
  assert.deepEqual(toPlan.map((o) => `${o.outcome.kind}/${o.outcome.attempts}`), toPlan.map(() => 'delivered/1'));
});
