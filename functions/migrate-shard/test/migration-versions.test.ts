/**
 * migrate-shard takes both versions of `migration.requested` (v2 carries migrations of more than 4,096
 * shards): a v2 request fans out exactly as a v1 one, one `shard.requested` (v1) per shard.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { decode, fixtureJson, isEventOf, shardIdFor, uuidv7 } from '@upshift/events';
import { shardsOfRun, startRun, withTransaction } from '@upshift/runtime';
import { startHandlerWithShop, type HandlerWithShop } from './support.ts';

const ref = 'orders-currency@1';
let fixture: HandlerWithShop;

before(async () => {
  fixture = await startHandlerWithShop(300);
});

after(async () => {
  await fixture?.stop();
});

/** A `migration.requested` of `version` for a new run: one postgres migration of `shards` shards. */
async function requestOf(version: 1 | 2, shards: number) {
  const runId = uuidv7();
  await withTransaction(fixture.t.store, async (tx) => void assert.ok(await startRun(tx, runId, {}, [])));
  const { subject: _subject, partitionkey: _key, ...json } = fixtureJson('migration.requested') as { subject?: string; partitionkey?: string; data: { migrations: object[] } };
  const type = `dev.upshift.migration.requested.v${version}`;
  return decode({
    ...json, id: uuidv7(), type, dataschema: `https://upshift.dev/schemas/${type}.json`,
    data: { runId, migrations: json.data.migrations.map((m) => ({ ...m, ref, shards, batchSize: 100 })) },
  });
}

for (const version of [1, 2] as const) {
  test(`migration.requested.v${version} fans out one shard.requested per shard`, { timeout: 20_000 }, async () => {
    const request = await requestOf(version, 3);
    assert.equal(request.type, `dev.upshift.migration.requested.v${version}`);
    const result = await fixture.t.handle(request);
    assert.equal(result.statusCode, 200, JSON.stringify(result.body));
    assert.equal(result.body['outcome'], 'handled');
    const outputs = await fixture.t.outputsOf(result);
    const runId = (request.data as { runId: string }).runId;
    const ids = [0, 1, 2].map((index) => shardIdFor(runId, ref, index));
    assert.deepEqual(outputs.map((e) => (isEventOf(e, 'shard.requested') ? e.data.shardId : e.type)), ids);
    assert.deepEqual((await shardsOfRun(fixture.t.store, runId)).map((s) => s.shardId), ids);
  });
}
