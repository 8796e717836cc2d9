import { test } from 'node:test';
import { CloudEvent } from 'cloudevents';
import assert from 'node:assert/strict';
import {
  catalogue, ContractViolation, createEvent, decode, decodeHttp, decodeKafka, encodeHttp, encodeKafka,
  eventNames, fixture, fixtureJson, isEventOf, nameOf, type AnyUpshiftEvent,
} from '../../src/index.ts';

const codecs = {
  'kafka binary': (e: AnyUpshiftEvent) => { const r = encodeKafka(e); return decodeKafka({ key: Buffer.from(r.key), value: Buffer.from(r.value), headers: Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, Buffer.from(v)])) }); },
  'kafka structured': (e: AnyUpshiftEvent) => { const r = encodeKafka(e, { mode: 'structured' }); return decodeKafka({ key: r.key, value: r.value, headers: r.headers }); },
  'http binary': (e: AnyUpshiftEvent) => decodeHttp(encodeHttp(e)),
  'http structured': (e: AnyUpshiftEvent) => decodeHttp(encodeHttp(e, { mode: 'structured' })),
};

for (const name of eventNames) {
  for (const [codec, roundTrip] of Object.entries(codecs)) {
    test(`${name} fixture round-trips unchanged through ${codec}`, () => {
      const golden = fixtureJson(name);
      assert.deepEqual(roundTrip(fixture(name)), golden);
    });
  }
}

test('every fixture is exactly its decoded event (no defaults, no stripped fields)', () => {
  for (const name of eventNames) assert.deepEqual(fixture(name), fixtureJson(name), name);
});

test('kafka binary mode: ce_ headers, JSON value, key = partition key, topic from the catalogue', () => {
  const event = fixture('shard.requested');
  const record = encodeKafka(event);
  assert.equal(record.topic, 'upshift.migrate-shard');
  assert.equal(record.key, event.data.shardId);
  assert.equal(record.headers.ce_type, 'dev.upshift.shard.requested.v1');
  assert.equal(record.headers.ce_source, '/upshift/migrate-shard');
  assert.equal(record.headers.ce_subject, event.data.shardId);
  assert.equal(record.headers.ce_traceparent, event.traceparent);
  assert.equal(record.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(record.value), event.data);
});

test('lifecycle events go to upshift.lifecycle keyed by run id', () => {
  const record = encodeKafka(fixture('upgrade.completed'));
  assert.equal(record.topic, 'upshift.lifecycle');
  assert.equal(record.key, fixture('upgrade.completed').data.runId);
});

test('http binary carries trace context as ce- extension headers', () => {
  const message = encodeHttp(fixture('upgrade.requested'));
  assert.equal(message.headers['ce-traceparent'], '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
  assert.equal(message.headers['ce-tracestate'], 'upshift=cli');
});

test('decoded events are typed by type and deeply immutable', () => {
  const event = decode(fixtureJson('shard.completed'));
  assert.equal(nameOf(event), 'shard.completed');
  assert.ok(isEventOf(event, 'shard.completed'));
  assert.ok(Object.isFrozen(event) && Object.isFrozen(event.data));
  assert.throws(() => { (event.data as { rowsMigrated: number }).rowsMigrated = 1; }, TypeError);
});

function violation(call: () => unknown): ContractViolation {
  try {
    call();
  } catch (error) {
    assert.ok(error instanceof ContractViolation, `expected ContractViolation, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a ContractViolation');
}

test('decode names the type and the failing data path', () => {
  const record = encodeKafka(fixture('shard.requested'));
  const data = { ...JSON.parse(record.value), batchSize: 0 };
  const error = violation(() => decodeKafka({ key: record.key, value: JSON.stringify(data), headers: record.headers }));
  assert.equal(error.type, 'dev.upshift.shard.requested.v1');
  assert.equal(error.path, 'data.batchSize');
  assert.equal(error.retriable, false);
});

test('decode rejects unknown types, bad attributes, non-JSON and non-CloudEvents', () => {
  const good = fixtureJson('run.progress') as Record<string, unknown>;
  assert.equal(violation(() => decode({ ...good, type: 'dev.upshift.run.progress.v9' })).path, 'type');
  assert.equal(violation(() => decode({ ...good, traceparent: 'nope' })).path, 'traceparent');
  assert.equal(violation(() => decode({ ...good, subject: 'someone-else' })).path, 'subject');
  assert.equal(violation(() => decode({ ...good, specversion: '0.3' })).path, 'specversion');
  const http = encodeHttp(fixture('run.progress'));
  assert.equal(violation(() => decodeHttp({ headers: http.headers, body: '{not json' })).type, 'dev.upshift.run.progress.v1');
  violation(() => decodeHttp({ headers: { 'content-type': 'application/json' }, body: '{}' }));
  violation(() => decodeKafka({ key: null, value: Buffer.from('{}'), headers: {} }));
  violation(() => decodeKafka({ key: null, value: null, headers: { ce_id: '1' } }));
});

test('encoding an invalid event throws ContractViolation; createEvent validates data', () => {
  const event = fixture('shard.completed');
  const tampered = { ...event, data: { ...event.data, rowsMigrated: -1 } } as AnyUpshiftEvent;
  assert.equal(violation(() => encodeKafka(tampered)).path, 'data.rowsMigrated');
  assert.equal(violation(() => encodeHttp({ ...event, id: '' } as AnyUpshiftEvent)).path, 'id');
  const bad = { ...event.data, shardId: 'not a shard' };
  assert.equal(violation(() => createEvent('shard.completed', bad, { producer: 'migrate-shard' })).path, 'data.shardId');
});

test('createEvent sets subject and partition key from the catalogue key field', () => {
  const data = fixture('shard.failed').data;
  const event = createEvent('shard.failed', data, { producer: 'migrate-shard', id: 'x-1', time: '2026-11-23T14:00:00Z' });
  assert.equal(event.subject, data.shardId);
  assert.equal(event.partitionkey, data.shardId);
  assert.equal(event.source, '/upshift/migrate-shard');
  assert.equal(event.time, '2026-11-23T14:00:00.000Z');
  assert.equal(event.type, catalogue['shard.failed'].type);
});

test('http binary with a charset content type and extra Knative extensions still decodes', () => {
  const message = encodeHttp(fixture('shard.completed'));
  const headers = { ...message.headers, 'content-type': 'application/json; charset=utf-8', 'ce-knativearrivaltime': '2026-11-23T14:00:00Z' };
  assert.deepEqual(decodeHttp({ headers, body: Buffer.from(message.body) }), fixtureJson('shard.completed'));
});

test('decode accepts an SDK CloudEvent instance (what faas-js-runtime hands a function)', () => {
  const golden = fixture('rollout.wave.check');
  const sdkEvent = new CloudEvent<unknown>({ ...golden, data: golden.data });
  assert.deepEqual(decode(sdkEvent), fixtureJson('rollout.wave.check'));
});
