import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createEvent, parsePolicyYaml, type AnyUpshiftEvent, type EventData, type EventName } from '@upshift/events';
import { jsonForTerminal, terminalSafe } from '../../src/escape.ts';
import { invalidPolicyText } from '../../src/request.ts';
import { runsTable } from '../../src/status/format.ts';
import { createDisplay } from '../../src/watch/follow.ts';
import { renderFrame } from '../../src/watch/render.ts';
import { applyEvents, emptyView } from '../../src/watch/state.ts';

/** Characters a terminal acts on (C0 but the line break, DEL, C1, bidi embeddings/overrides/isolates), as found in `text`. */
function rawControls(text: string): string[] {
  return [...text].filter((c) => {
    const code = c.codePointAt(0) ?? 0;
    return (code < 0x20 && c !== '\n') || (code >= 0x7f && code <= 0x9f) || (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069);
  });
}

/** A key that, printed raw, erases its line and prints a fake one. */
const hostile = 'spec.x\n\u001b[2Kspec.ok: fine\u202e';
const hostileShown = 'spec.x\\n\\x1b[2Kspec.ok: fine\\u202e';

const cases: Array<[string, string]> = [
  ['a\nb', 'a\\nb'], ['a\rb\tc', 'a\\rb\\tc'], ['\u001b[31mred', '\\x1b[31mred'], ['nul\u0000', 'nul\\x00'], ['del\u007f', 'del\\x7f'],
  ['csi\u009b2J', 'csi\\x9b2J'], ['\u202eevil', '\\u202eevil'], ['\u2066iso\u2069', '\\u2066iso\\u2069'], ['\u202a\u202d', '\\u202a\\u202d'],
  ['lone \ud800', 'lone \\ud800'], ['café 日本 🚀 C:\\path', 'café 日本 🚀 C:\\path'],
];

test('terminalSafe escapes C0, DEL, C1, bidi controls and lone surrogates, and leaves other text as is', () => {
  for (const [input, shown] of cases) assert.equal(terminalSafe(input), shown, JSON.stringify(input));
});

test('jsonForTerminal escapes what JSON.stringify leaves raw (DEL, C1, bidi) and parses back to the same value', () => {
  const value = { path: hostile, csi: '\u009b2J', del: '\u007f', name: 'café' };
  assert.notDeepEqual(rawControls(JSON.stringify(value)), [], 'JSON.stringify alone prints bidi and C1 raw');
  const text = jsonForTerminal(value, 2);
  assert.deepEqual(rawControls(text), []);
  assert.deepEqual(JSON.parse(text), value);
});

test('request: a problem path with a newline and ESC is printed escaped, one line per problem', () => {
  const text = invalidPolicyText('policy.yaml', [{ path: hostile, message: 'unknown field' }]);
  assert.deepEqual(rawControls(text), []);
  assert.equal(text, `policy.yaml: invalid UpgradePolicy (1 problem)\n  ${hostileShown}: unknown field\n`);
});

test('request: a policy file whose key holds a newline, ESC and a bidi override prints no raw control character', () => {
  const example = readFileSync(new URL('../../../examples/policy.yaml', import.meta.url), 'utf8');
  const parsed = parsePolicyYaml(`${example}  "x\\n\\e[2Kspec.ok: fine\\u202e": 1\n`);
  assert.equal(parsed.ok, false);
  const text = invalidPolicyText('policy.yaml', parsed.ok ? [] : parsed.problems);
  assert.deepEqual(rawControls(text), []);
  assert.equal(text.split('\n').length, 3, 'the header, one problem, the final newline');
  assert.match(text, /x\\n\\x1b\[2Kspec\.ok: fine\\u202e/);
});

let seq = 0;
function ev<N extends EventName>(name: N, data: EventData<N>): AnyUpshiftEvent {
  seq += 1;
  return createEvent(name, data, { producer: 'plan', id: `e-${seq}`, time: new Date(Date.UTC(2026, 10, 23, 10, 0, seq)) }) as AnyUpshiftEvent;
}

const runId = 'run-hostile';
const target = { service: 'orders', cluster: 'upshift-a', namespace: 'shop', workload: { kind: 'Deployment' as const, name: 'orders' }, container: 'orders', image: 'registry.local/shop/orders:2.0.0', previousImage: 'registry.local/shop/orders:1.0.0' };

test('watch: paths, reasons and messages from events are rendered escaped; no value adds a line', () => {
  const rejected = applyEvents(emptyView(runId), [
    ev('upgrade.rejected', { runId, code: 'invalid-policy', reason: `invalid policy\n\u001b[2Kresult: COMPLETED`, problems: [{ path: hostile, message: 'unknown field \u001b]8;;http://x\u0007link' }] }),
  ]);
  const frame = renderFrame(rejected, 0);
  assert.deepEqual(rawControls(frame), []);
  assert.ok(frame.includes(`  ! ${hostileShown}: unknown field \\x1b]8;;http://x\\x07link`), frame);
  assert.ok(frame.includes('reason: invalid policy\\n\\x1b[2Kresult: COMPLETED'), frame);
  assert.equal(frame.match(/^result: /gm)?.length, 1, 'the fake result line is not a line');

  const failed = applyEvents(emptyView(runId), [
    ev('upgrade.planned', { runId, policyName: 'shop', dryRun: false, waves: [{ index: 0, targets: [target] }], migrations: [] }),
    ev('rollout.wave.failed', { runId, wave: 0, reason: 'deadline\u001b[1A\u001b[2K', targets: [{ service: 'orders', cluster: 'upshift-a', reason: 'Progress\u202eDeadline' }] }),
    ev('run.progress', { runId, stage: 'rollout', percent: 50, message: 'half\rway', wavesDone: 0, wavesTotal: 1, shardsDone: 0, shardsTotal: 0, rowsMigrated: 0 }),
  ]);
  const lines = renderFrame(failed, 0);
  assert.deepEqual(rawControls(lines), []);
  assert.match(lines, /\(Progress\\u202eDeadline\)/);
  assert.match(lines, /! wave 1 of 1: deadline\\x1b\[1A\\x1b\[2K/);
  assert.match(lines, /- half\\rway/);
});

test('watch --json and the lines display print no raw control or bidi character', () => {
  const view = applyEvents(emptyView(runId), [ev('upgrade.rejected', { runId, code: 'invalid-policy', reason: 'bad', problems: [{ path: hostile, message: 'unknown field' }] })]);
  for (const mode of ['json', 'lines'] as const) {
    let out = '';
    createDisplay(mode, (text) => (out += text)).show(view, 0);
    assert.deepEqual(rawControls(out), [], mode);
    if (mode === 'json') assert.equal((JSON.parse(out) as { failures: string[] }).failures[0], `${hostile}: unknown field`, 'the document keeps the exact value');
  }
});

test('status: a policy name from the store cannot break the runs table', () => {
  const text = runsTable([{ id: 'run-1', policy: 'shop\n\u001b[2Krun-2', status: 'completed', startedAt: new Date(0), finishedAt: new Date(1000) }], 1000);
  assert.deepEqual(rawControls(text), []);
  assert.equal(text.trimEnd().split('\n').length, 2, 'header and one row');
  assert.match(text, /run-1 +shop\\n\\x1b\[2Krun-2 +completed/);
});
