/**
 * Every event names its data's schema (`dataschema`, CloudEvents 1.0 §3.1.1): the `$id` of the JSON Schema
 * `npm run events:generate` writes for its type; it rides the wire as `ce_dataschema` and a wrong one is
 * a contract violation. A context attribute, not data: the published data schemas do not change.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ContractViolation, createEvent, dataSchemaOf, decode, decodeHttp, encodeHttp, encodeKafka, eventNames, fixture, fixtureJson } from '../../src/index.ts';
import { eventDataSchema } from '../../src/generate/jsonschema.ts';
import { catalogue } from '../../src/catalogue.ts';

test('every event type\'s dataschema is the $id of its generated JSON Schema file', () => {
  for (const name of eventNames) {
    const { type } = catalogue[name];
    const generated = JSON.parse(readFileSync(new URL(`../../generated/schemas/${type}.json`, import.meta.url), 'utf8')) as { $id: string };
    assert.equal(fixture(name).dataschema, generated.$id, name);
    assert.equal(eventDataSchema(catalogue[name]).$id, dataSchemaOf(type), name);
  }
});

test('a created event carries its dataschema, and the bindings put it on the wire', () => {
  const event = createEvent('upgrade.completed', fixture('upgrade.completed').data, { producer: 'verify' });
  assert.equal(event.dataschema, 'https://upshift.dev/schemas/dev.upshift.upgrade.completed.v1.json');
  assert.equal(encodeKafka(event).headers['ce_dataschema'], event.dataschema);
  assert.equal(encodeHttp(event).headers['ce-dataschema'], event.dataschema);
  assert.equal(decodeHttp(encodeHttp(event)).dataschema, event.dataschema);
});

test('an event without dataschema gets its type\'s; one naming another schema is refused', () => {
  const { dataschema: _omitted, ...without } = fixtureJson('shard.requested') as Record<string, unknown>;
  assert.equal(decode(without).dataschema, dataSchemaOf('dev.upshift.shard.requested.v1'));
  const wrong = { ...without, dataschema: dataSchemaOf('dev.upshift.shard.completed.v1') };
  assert.throws(() => decode(wrong), (error: unknown) => error instanceof ContractViolation && /dataschema/.test(error.message));
});
