import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { LiveDocuments, type DocumentBuilder } from '../../src/adapters/live.ts';

const hubs: LiveDocuments[] = [];
function hub(coalesceMs = 100): LiveDocuments {
  const live = new LiveDocuments({ coalesceMs, tickMs: 60_000, keepMs: 1000, now: Date.now, onError: () => undefined });
  hubs.push(live);
  return live;
}
after(() => hubs.forEach((h) => h.close()));

/** A document that counts its builds; `value` is what it holds now. */
function counted(state: { value: number; builds: number; exists?: boolean }): DocumentBuilder {
  return async () => {
    state.builds += 1;
    return state.exists === false ? undefined : { json: JSON.stringify({ value: state.value }), live: true };
  };
}

test('a subscriber gets the current document at once, then each change; a burst of notifications is read once or twice', async () => {
  const live = hub(100);
  const state = { value: 1, builds: 0 };
  const got: string[] = [];
  const sub = await live.subscribe('run:a', counted(state), { send: (_id, json) => got.push(json) });
  assert.deepEqual(got, ['{"value":1}'], 'snapshot first');
  state.value = 2;
  for (let i = 0; i < 50; i += 1) live.changed('run:a');
  await sleep(300);
  assert.deepEqual(got, ['{"value":1}', '{"value":2}']);
  assert.ok(state.builds <= 3, `50 notifications within the coalescing window read the store ${state.builds} times`);
  sub.unsubscribe();
});

test('an unchanged document is not sent again; a reconnecting page that has the latest version is not sent it', async () => {
  const live = hub(20);
  const state = { value: 7, builds: 0 };
  const ids: string[] = [];
  const first = await live.subscribe('run:b', counted(state), { send: (id) => ids.push(id) });
  live.changed('run:b');
  await sleep(80);
  assert.equal(ids.length, 1, 'same JSON: nothing sent');
  const again: string[] = [];
  await live.subscribe('run:b', counted(state), { send: (id) => again.push(id) }, ids[0]);
  assert.deepEqual(again, [], 'Last-Event-ID is the current version');
  const stale: string[] = [];
  await live.subscribe('run:b', counted(state), { send: (id) => stale.push(id) }, 'old.1');
  assert.deepEqual(stale, ids);
  first.unsubscribe();
});

test('a document that does not exist is reported, and a change to an unwatched document reads nothing', async () => {
  const live = hub(20);
  const missing = { value: 0, builds: 0, exists: false };
  const sub = await live.subscribe('run:c', counted(missing), { send: () => assert.fail('nothing to send') });
  assert.equal(sub.found, false);
  const other = { value: 0, builds: 0 };
  live.changed('run:never-opened');
  await sleep(50);
  assert.equal(other.builds, 0);
});

test('a build that fails keeps the last document and reports the failure', async () => {
  const errors: string[] = [];
  const live = new LiveDocuments({ coalesceMs: 10, tickMs: 60_000, keepMs: 1000, now: Date.now, onError: (key, error) => errors.push(`${key}: ${(error as Error).message}`) });
  hubs.push(live);
  let fail = false;
  const got: string[] = [];
  await live.subscribe('run:d', async () => {
    if (fail) throw new Error('connection terminated');
    return { json: '{"ok":true}', live: true };
  }, { send: (_id, json) => got.push(json) });
  fail = true;
  live.changed('run:d');
  await sleep(50);
  assert.deepEqual(got, ['{"ok":true}']);
  assert.deepEqual(errors, ['run:d: connection terminated']);
});
