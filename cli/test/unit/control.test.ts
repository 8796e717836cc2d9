import { test } from 'node:test';
import assert from 'node:assert/strict';
import { controlSettings, controlUsage, defaultRequester, promoteTargetOf, retryTargetOf, throttleOf } from '../../src/control.ts';
import { controlAnswerText, controlSection, controlStateText } from '../../src/status/control.ts';
import { upshift } from '../support/run.ts';

const runId = '019ab1c2-7d3e-7a41-9b2c-5e8f0a1d2c3b';
const controlId = '0f5b7c1e-2d4a-4c8e-9a6b-3e1f2a7d9c40';
const kafka = { brokers: '127.0.0.1:9092' };

test('a control names the run, who asks (user@host unless --as) and why', () => {
  const settings = controlSettings('pause', runId, { ...kafka, reason: 'peak hour', 'topic-prefix': 't1.' }, controlId);
  assert.ok(typeof settings !== 'string', String(settings));
  assert.deepEqual(settings.control, { runId, controlId, action: 'pause', requestedBy: defaultRequester(), reason: 'peak hour' });
  assert.match(defaultRequester(), /^[^@]+@[^@]+$/);
  assert.equal(settings.topicPrefix, 't1.');
  const as = controlSettings('abort', runId, { ...kafka, as: 'ci/release#418' }, controlId);
  assert.ok(typeof as !== 'string');
  assert.equal(as.control.requestedBy, 'ci/release#418');
});

test('control arguments are checked before anything is sent', () => {
  const rollback = controlSettings('rollback', runId, kafka, controlId);
  assert.equal(typeof rollback === 'string' ? rollback : rollback.control.action, 'abort', 'upshift rollback publishes an abort');
  const cases: Array<[Parameters<typeof controlSettings>, RegExp]> = [
    [['pause', undefined, kafka], /expected exactly one run id/],
    [['pause', 'Not A Run', kafka], /is not a run id/],
    [['pause', runId, { brokers: 'nohost' }], /--brokers: "nohost" is not host:port/],
    [['pause', runId, { ...kafka, 'topic-prefix': 'bad prefix!' }], /--topic-prefix/],
    [['pause', runId, { ...kafka, reason: 'x'.repeat(501) }], /--reason: at most 500 characters/],
    [['pause', runId, { ...kafka, as: '' }], /--as: 1 to 200 characters/],
    [['pause', runId, { ...kafka, timeout: '0' }], /--timeout must be a positive number/],
    [['throttle', runId, kafka], /give --rows-per-second, --batch-size or --pause-ms/],
    [['retry', runId, kafka], /give exactly one of --shard or --wave/],
  ];
  for (const [args, message] of cases) {
    const result = controlSettings(...args);
    assert.equal(typeof result, 'string', String(message));
    assert.match(result as string, message);
  }
});

test('throttle flags become the event\'s throttle, bounded as the contract bounds them', () => {
  assert.deepEqual(throttleOf({ 'rows-per-second': '2000', 'pause-ms': '50' }), { rowsPerSecond: 2000, pauseMs: 50 });
  assert.deepEqual(throttleOf({ 'batch-size': '100' }), { batchSize: 100 });
  assert.deepEqual(throttleOf({ clear: true }), {});
  assert.equal(throttleOf({ clear: true, 'batch-size': '5' }), '--clear takes no limits');
  assert.match(String(throttleOf({ 'rows-per-second': '0' })), /^--rows-per-second: /);
  assert.match(String(throttleOf({ 'batch-size': '100001' })), /^--batch-size: /);
  assert.equal(throttleOf({ 'pause-ms': '1.5' }), '--pause-ms must be a whole number, got "1.5"');
});

test('retry targets a shard, or a wave counted from 1 (0-based in the event)', () => {
  assert.deepEqual(retryTargetOf({ shard: `${runId}:orders-currency@1:3` }), { kind: 'shard', shardId: `${runId}:orders-currency@1:3` });
  assert.deepEqual(retryTargetOf({ wave: '2' }), { kind: 'wave', wave: 1 });
  assert.equal(retryTargetOf({ wave: '0' }), '--wave counts from 1');
  assert.match(String(retryTargetOf({ shard: 'orders' })), /^--shard: /);
});

test('promote targets the gated wave counted from 1 (0-based in the event), or the current gate without --wave', () => {
  assert.equal(promoteTargetOf({}), undefined);
  assert.deepEqual(promoteTargetOf({ wave: '2' }), { kind: 'wave', wave: 1 });
  assert.equal(promoteTargetOf({ wave: '0' }), '--wave counts from 1');
  assert.equal(promoteTargetOf({ shard: `${runId}:orders-currency@1:3` }), 'promote takes --wave, not --shard');
  assert.equal(controlStateText({ paused: false, pausedMs: 0, gateWave: 1 }), 'waiting at the gate before wave 2 (promote to continue); not paused; not throttled');
  const answer = controlAnswerText({ runId, controlId, action: 'resume', requestedBy: 'ana@ops', outcome: 'ignored', message: 'ignored: not paused', state: { paused: false, pausedMs: 0, gate: { wave: 2 } } });
  assert.match(answer, /: waiting at the gate before wave 3 \(promote to continue\)/);
});

test('what verify answered, and the control section of status, are printed escaped', () => {
  const text = controlAnswerText({
    runId, controlId, action: 'pause', requestedBy: 'eve\u001b[2J@host', outcome: 'applied', message: 'paused by eve\nfake line',
    state: { paused: true, pausedAt: '2026-12-02T10:00:00.000Z', pausedMs: 0 },
  });
  assert.equal(text.split('\n').length, 3, 'two lines, nothing injected');
  assert.match(text, /pause applied \(asked by eve\\x1b\[2J@host\): paused by eve\\nfake line/);
  assert.match(text, /paused since 2026-12-02 10:00:00 UTC/);
  assert.equal(controlStateText({ paused: false, pausedMs: 0, throttle: { rowsPerSecond: 25 } }), 'not paused; throttled to 25 rows/s per shard');
  const section = controlSection({
    paused: true, pausedAt: new Date('2026-12-02T10:00:00Z'), pausedMs: 12_000, throttle: undefined, gateWave: undefined,
    updatedAt: new Date('2026-12-02T10:00:00Z'), updatedBy: 'ana@ops', held: 3,
    history: [{ controlId, action: 'pause', outcome: 'applied', message: 'paused by ana@ops', requestedBy: 'ana@ops', decidedAt: new Date('2026-12-02T10:00:00Z') }],
  });
  assert.match(section, /^\ncontrol\n {2}paused since 2026-12-02 10:00:00 UTC \(12s paused in all, 3 held\); not throttled; last changed by ana@ops/);
  assert.match(section, / {2}2026-12-02 10:00:00\s+pause\s+applied\s+ana@ops\s+paused by ana@ops/);
  assert.equal(controlSection(undefined), '');
});

test('every control command has its --help, and a bad flag is a usage error (exit 2)', async () => {
  for (const name of ['pause', 'resume', 'abort', 'throttle', 'retry', 'promote'] as const) {
    const { code, stdout } = await upshift([name, '--help']);
    assert.equal(code, 0, name);
    assert.equal(stdout, controlUsage(name));
  }
  const { code, stderr } = await upshift(['throttle', runId, '--rows-per-second', 'fast', '--brokers', '127.0.0.1:1']);
  assert.equal(code, 2);
  assert.match(stderr, /--rows-per-second must be a whole number, got "fast"/);
});
