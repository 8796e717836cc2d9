import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createEvent, decode, fixture, type AnyUpshiftEvent } from '@upshift/events';
import { applyEvents, emptyView } from '../../../cli/src/watch/state.ts';
import { runDocument, traceUrlOf } from '../../src/core/run-document.ts';
import { extendTimeline } from '../../src/core/timeline.ts';

/** The plan and the first wave's completion of the golden fixtures (one run), with the first wave's failure reason holding markup. */
const planned = fixture('upgrade.planned');
const runId = planned.data.runId;
const at = (s: number) => new Date(Date.parse(planned.time) + s * 1000).toISOString();

function events(): AnyUpshiftEvent[] {
  const failed = fixture('rollout.wave.failed');
  const targets = failed.data.targets.map((t) => ({ ...t, reason: '<img src=x onerror=alert(1)>' }));
  const markup = decode({ ...failed, id: 'wave-failed-1', time: at(5), data: { ...failed.data, runId, targets } }) as AnyUpshiftEvent;
  return [planned as AnyUpshiftEvent, markup];
}

test('the run page document is the watch fold plus the trace link, wave states, shard rows and the timeline', () => {
  const list = events();
  const view = applyEvents(emptyView(runId), list);
  const steps = [0, 1].map((index) => ({ key: `${runId}:orders-currency@1:${index}`, status: index === 0 ? 'completed' : 'running', attempt: 1, checkpoint: { migration: 'orders-currency@1', index, estimatedRows: 100, checkpoint: { scanned: index === 0 ? 100 : 40, changed: 40, batches: 1, batchSize: 50, throttles: 0 } } }));
  const doc = runDocument({
    view, run: { status: 'running', createdAt: Date.parse(at(0)) }, shardSteps: steps, samples: {}, timeline: extendTimeline([], list),
    control: { paused: true, pausedAt: at(6), pausedMs: 0, held: 0, history: [], updatedBy: 'dashboard:alice' }, jaegerUrl: 'http://127.0.0.1:26686/', now: Date.parse(at(10)),
  });
  assert.equal(doc.traceUrl, 'http://127.0.0.1:26686/trace/4bf92f3577b34da6a3ce929d0e0e4736');
  assert.deepEqual(doc.waves.map((w) => [w.label, w.state]), [['wave 1 of 2', 'pending'], ['wave 2 of 2', 'failed']]);
  assert.equal(doc.waves[1]?.targets[0]?.reason, '<img src=x onerror=alert(1)>', 'values travel as plain text: the page renders text nodes');
  assert.equal(doc.durationMs, 10_000);
  assert.equal(doc.endedAt, null);
  const [migration] = doc.migrations;
  assert.deepEqual(migration?.shards.map((s) => [s.index, s.state, s.hold ?? '']), [[1, 'running', 'paused'], [0, 'completed', '']]);
  assert.equal(migration?.rowsPerSecond, 0, 'a paused run moves no rows');
  assert.equal(migration?.etaMs, null);
  assert.deepEqual(doc.timeline.map((e) => e.name), ['upgrade.planned', 'rollout.wave.failed']);
  assert.equal(doc.control?.updatedBy, 'dashboard:alice');
});

test('a trace link is made only of a trace id and the configured Jaeger', () => {
  assert.equal(traceUrlOf(undefined, 'bc5f98e3b94dd83d12d7853b508fc640'), null);
  assert.equal(traceUrlOf('http://jaeger:16686', undefined), null);
  assert.equal(traceUrlOf('http://jaeger:16686', 'javascript:alert(1)'), null);
  assert.equal(traceUrlOf('http://jaeger:16686', 'bc5f98e3b94dd83d12d7853b508fc640'), 'http://jaeger:16686/trace/bc5f98e3b94dd83d12d7853b508fc640');
});

test('consecutive progress reports fold into the newest; the timeline keeps the newest entries', () => {
  const progress = (percent: number, s: number) => createEvent('run.progress', { runId, stage: 'migrate', percent, wavesDone: 1, wavesTotal: 1, shardsDone: 0, shardsTotal: 2, rowsMigrated: percent }, { producer: 'migrate-shard', time: at(s) }) as AnyUpshiftEvent;
  const timeline = extendTimeline([], [...events(), progress(10, 6), progress(20, 7), progress(30, 8)]);
  assert.deepEqual(timeline.map((e) => e.name), ['upgrade.planned', 'rollout.wave.failed', 'run.progress']);
  assert.match(timeline.at(-1)?.summary ?? '', /30%/);
  assert.equal(extendTimeline([], [...events(), progress(10, 6)], 2).length, 2);
});

test('a frozen run offers the wave it stopped at and its failed shards; once retried it is not ended any more', () => {
  const frozenEvent = fixture('upgrade.failed');
  const failed = decode({ ...frozenEvent, id: 'frozen-1', time: at(8), data: { ...frozenEvent.data, runId, stage: 'rollout', frozen: true, failurePolicy: 'freeze' } }) as AnyUpshiftEvent;
  const view = applyEvents(emptyView(runId), [...events(), failed]);
  const steps = [{ key: `${runId}:orders-currency@1:0`, status: 'failed', attempt: 1, checkpoint: { migration: 'orders-currency@1', index: 0 } }];
  const input = { view, shardSteps: steps, samples: {}, timeline: [], control: undefined, jaegerUrl: undefined, now: Date.parse(at(10)) };
  const frozen = runDocument({ ...input, run: { status: 'failed', createdAt: Date.parse(at(0)), finishedAt: Date.parse(at(8)) } });
  assert.deepEqual(frozen.frozen, { wave: 0, failedShards: [`${runId}:orders-currency@1:0`] });
  assert.equal(frozen.outcome?.name, 'upgrade.failed');
  const retried = runDocument({ ...input, run: { status: 'running', createdAt: Date.parse(at(0)) } });
  assert.deepEqual([retried.frozen, retried.outcome, retried.endedAt], [null, null, null], 'a reopened run runs again: no outcome, no end');
  const rolledBack = runDocument({ ...input, run: { status: 'failed', createdAt: Date.parse(at(0)), finishedAt: Date.parse(at(8)) }, view: { ...view, outcome: { ...view.outcome!, frozen: false } } });
  assert.equal(rolledBack.frozen, null, 'a failed run that did not freeze offers nothing');
});
