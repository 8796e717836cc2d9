/**
 * The handling path and the outbox relay with the in-memory transport (real PostgreSQL, no Kafka):
 * emitted events get derived ids and are published after commit; a broker outage leaves them pending
 * and the relay's poll publishes them once the broker is back; a handler error commits nothing.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createEvent, derivedId } from '@upshift/events';
import type { AnyUpshiftEvent } from '@upshift/events';
import { UpshiftError } from '../src/errors.ts';
import { defineFunction } from '../src/host/function.ts';
import type { FunctionModule } from '../src/host/function.ts';
import { MemoryTransport } from '../src/transport/memory.ts';
import { eventually, freshDatabase, functionEnv, stackEnv } from './support/stack.ts';

const env = stackEnv();
const transport = new MemoryTransport();
let db: Awaited<ReturnType<typeof freshDatabase>>;
let fn: FunctionModule;

before(async () => {
  db = await freshDatabase(env);
  fn = defineFunction({
    name: 'migrate-shard',
    async handle(ctx, event) {
      if (event.type !== 'dev.upshift.migration.expand.requested.v1') return;
      const { runId, migrations } = event.data;
      await ctx.decide(async (d) => {
        if (runId.startsWith('broken-')) {
          d.emit('migration.expand.done', { runId, migrations: [...migrations] });
          throw new UpshiftError('THROTTLED', 'database under pressure');
        }
        for (const migration of migrations) d.emit('migration.expand.done', { runId, migrations: [migration] }, { key: migration });
      });
    },
  });
  await fn.init({ env: functionEnv(env, db.url, 'mem.', { RELAY_POLL_MS: '100' }), publisher: transport });
});

after(async () => {
  await fn?.shutdown();
  await db?.drop();
});

function request(runId: string): AnyUpshiftEvent {
  return createEvent('migration.expand.requested', { runId, migrations: ['a@1', 'b@1'] }, { producer: 'cli' }) as AnyUpshiftEvent;
}

test('emitted events are published after commit with ids derived from the input', { timeout: 20_000 }, async () => {
  const input = request('run-a');
  const result = await fn.handle({}, input);
  assert.equal(result.statusCode, 200);
  const expected = ['a@1', 'b@1'].map((key) => derivedId(input.source, input.id, 'migration.expand.done', key));
  assert.deepEqual(result.body['outputs'], expected);
  await eventually(async () => (transport.eventsOn('mem.upshift.rollout').length >= 2 ? true : undefined));
  const published = transport.published.filter((message) => message.event.subject === 'run-a');
  assert.deepEqual(published.map((message) => message.event.id), expected);
  assert.deepEqual(published.map((message) => message.key), ['run-a', 'run-a']);
  assert.ok(published.every((message) => message.event.source === '/upshift/migrate-shard'));
});

test('during a broker outage outputs stay in the outbox; the poll publishes them later', { timeout: 20_000 }, async () => {
  transport.failWith = new Error('broker down');
  const result = await fn.handle({}, request('run-b'));
  assert.equal(result.statusCode, 200, 'handling does not wait for the broker');
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(transport.published.filter((message) => message.event.subject === 'run-b').length, 0);
  transport.failWith = undefined;
  await eventually(async () => (transport.published.filter((message) => message.event.subject === 'run-b').length === 2 ? true : undefined));
});

test('a failing handler commits nothing: no inbox row, no output, and its status', { timeout: 20_000 }, async () => {
  const input = request('broken-c');
  const first = await fn.handle({}, input);
  assert.equal(first.statusCode, 429);
  const again = await fn.handle({}, input);
  assert.equal(again.statusCode, 429, 'the retry runs the handler again (no inbox row was kept)');
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(transport.published.filter((message) => message.event.subject === 'broken-c').length, 0);
});

test('an event that breaks the contract is answered 400', async () => {
  const result = await fn.handle({}, { specversion: '1.0', id: 'x', source: '/x', type: 'dev.upshift.nope.v1', time: new Date().toISOString(), data: {} });
  assert.equal(result.statusCode, 400);
});

test('an event the catalogue routes to another function is refused with 400', async () => {
  const misdelivered = createEvent('upgrade.requested', {
    runId: 'run-z', policy: { apiVersion: 'upshift.dev/v1alpha1', kind: 'UpgradePolicy', metadata: { name: 'p' } },
  }, { producer: 'cli' });
  const result = await fn.handle({}, misdelivered);
  assert.equal(result.statusCode, 400);
  assert.match(JSON.stringify(result.body), /not consumed by migrate-shard/);
});
