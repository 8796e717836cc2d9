/**
 * Output conventions of `upshift status` and `upshift watch` on a finished run in a real control store:
 * `-o json|yaml|wide` (`--json` = `-o json`), the run's Jaeger URL in watch, colour only where allowed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { freshControlStore, insertFinishedRun, runEvent, type TestStore } from './support/control-store.ts';
import { upshift } from './support/run.ts';

const needsPostgres = process.env.POSTGRES_ADMIN_URL ? false : 'POSTGRES_ADMIN_URL not set: run through npm test';
const runId = 'run-output-1';
const traceId = '0af7651916cd43dd8448eb211c80319c'; // the traceparent runEvent gives every event
const started = new Date('2026-11-23T10:00:00.000Z');
let store: TestStore;
let env: NodeJS.ProcessEnv;

before(async () => {
  if (needsPostgres) return;
  store = await freshControlStore();
  env = { ...process.env, DATABASE_URL: store.url, KAFKA_BROKERS: '', JAEGER_QUERY_URL: 'http://jaeger.test:16686', JAEGER_UI_URL: undefined, NO_COLOR: undefined, FORCE_COLOR: undefined, TERM: 'xterm' };
  const at = (s: number) => new Date(started.getTime() + s * 1000);
  await insertFinishedRun(store.pool, {
    id: runId, status: 'completed', policyName: 'output-policy', started, finished: at(30), waves: 1,
    events: [
      runEvent('upgrade.planned', { runId, policyName: 'output-policy', dryRun: false, waves: [], migrations: [] }, 'plan', `${runId}-planned`, at(1)),
      runEvent('upgrade.completed', { runId, policyName: 'output-policy', services: [], migrations: [], contracted: false, durationMs: 30_000 }, 'verify', `${runId}-done`, at(30)),
    ],
  });
});

after(async () => {
  await store?.drop();
});

test('status -o json is --json, -o yaml the same document, -o wide more columns; another -o is a usage error', { skip: needsPostgres }, async () => {
  const [json, alias, yaml, wide, bad] = await Promise.all([
    upshift(['status', '-o', 'json'], env), upshift(['status', '--json'], env), upshift(['status', '--output', 'yaml'], env),
    upshift(['status', '-o', 'wide'], env), upshift(['status', '-o', 'xml'], env),
  ]);
  assert.equal(json.code, 0, json.stderr);
  assert.equal(json.stdout, alias.stdout);
  const document = JSON.parse(json.stdout) as { runs: Array<{ id: string; status: string; durationMs: number }> };
  assert.deepEqual(document.runs.map((r) => [r.id, r.status, r.durationMs]), [[runId, 'completed', 30_000]]);
  assert.deepEqual(parseYaml(yaml.stdout), document);
  assert.match(wide.stdout, /^RUN +POLICY +STATUS +STARTED \(UTC\) +DURATION +FINISHED \(UTC\) +WAVES +MIGRATIONS$/m);
  assert.match(wide.stdout, new RegExp(`^${runId} +output-policy +completed +2026-11-23 10:00:00 +30s +2026-11-23 10:00:30 `, 'm'));
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /-o must be one of json, yaml, wide, got "xml"/);
  const one = await upshift(['status', runId, '-o', 'yaml'], env);
  assert.equal((parseYaml(one.stdout) as { run: { id: string } }).run.id, runId);
});

test('watch prints the run\'s Jaeger URL; colour with FORCE_COLOR, none (and no screen codes) for TERM=dumb or NO_COLOR', { skip: needsPostgres }, async () => {
  const [plain, coloured, dumb, noColour] = await Promise.all([
    upshift(['watch', runId], env), upshift(['watch', runId], { ...env, FORCE_COLOR: '1' }),
    upshift(['watch', runId], { ...env, FORCE_COLOR: '1', TERM: 'dumb' }), upshift(['watch', runId], { ...env, FORCE_COLOR: '1', NO_COLOR: '1' }),
  ]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, new RegExp(`^trace ${traceId}  http://jaeger\\.test:16686/trace/${traceId}$`, 'm'));
  assert.ok(!plain.stdout.includes('\u001b'), 'a pipe gets no escape codes');
  assert.ok(coloured.stdout.includes('result: \u001b[32m\u001b[1mCOMPLETED'), coloured.stdout);
  for (const outcome of [dumb, noColour]) {
    assert.equal(outcome.code, 0);
    assert.ok(!outcome.stdout.includes('\u001b'), outcome.stdout);
    assert.match(outcome.stdout, /result: COMPLETED/);
  }
});
