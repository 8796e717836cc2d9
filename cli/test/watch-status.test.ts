/**
 * `upshift watch` and `upshift status` against a real control store (PostgreSQL of the stack) holding
 * finished runs: watch prints the final state and exits with the run's outcome; status lists and shows.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { freshControlStore, insertFinishedRun, runEvent, type TestStore } from './support/control-store.ts';
import { upshift } from './support/run.ts';

const needsPostgres = process.env.POSTGRES_ADMIN_URL ? false : 'POSTGRES_ADMIN_URL not set: run through npm test';
let store: TestStore;
const started = new Date('2026-11-23T10:00:00.000Z');
const at = (s: number) => new Date(started.getTime() + s * 1000);
const target = (service: string, cluster: string) => ({
  service, cluster, namespace: 'shop', workload: { kind: 'Deployment' as const, name: service }, container: service,
  image: `registry.local/shop/${service}:2.0.0`, previousImage: `registry.local/shop/${service}:1.0.0`,
});

function plannedEvent(runId: string) {
  return runEvent('upgrade.planned', {
    runId, policyName: 'shop-2026-11', dryRun: false,
    waves: [{ index: 0, targets: [target('customers', 'upshift-a')] }, { index: 1, targets: [target('orders', 'upshift-a')] }],
    migrations: [{ ref: 'orders-currency@1', store: 'postgres', shards: 2, batchSize: 500, backup: true }],
  }, 'plan', `${runId}-planned`, at(1));
}

function waveCompleted(runId: string, wave: number, service: string) {
  return runEvent('rollout.wave.completed', {
    runId, wave, waves: 2, targets: [{ service, cluster: 'upshift-a', image: `registry.local/shop/${service}:2.0.0`, previousImage: `registry.local/shop/${service}:1.0.0` }],
  }, 'rollout', `${runId}-wave-${wave}`, at(10 + wave * 10));
}

const completedRun = 'run-completed-1';
const rolledBackRun = 'run-rolled-back-1';

before(async () => {
  if (needsPostgres) return;
  store = await freshControlStore();
  await insertFinishedRun(store.pool, {
    id: completedRun, status: 'completed', policyName: 'shop-2026-11', started, finished: at(60), waves: 2,
    events: [
      plannedEvent(completedRun), waveCompleted(completedRun, 0, 'customers'), waveCompleted(completedRun, 1, 'orders'),
      ...[0, 1].map((i) => runEvent('shard.completed', { runId: completedRun, shardId: `${completedRun}:orders-currency@1:${i}`, migration: 'orders-currency@1', rowsMigrated: 1000 + i, batches: 3, durationMs: 900 }, 'migrate-shard', `${completedRun}-shard-${i}`, at(40))),
      runEvent('verify.results', { runId: completedRun, passed: true, checks: [{ name: 'no-old-version', kind: 'noOldVersion', passed: true, message: '0 left at the old version' }] }, 'verify', `${completedRun}-verify`, at(55)),
      runEvent('upgrade.completed', { runId: completedRun, policyName: 'shop-2026-11', services: [{ service: 'customers', cluster: 'upshift-a', image: 'registry.local/shop/customers:2.0.0' }, { service: 'orders', cluster: 'upshift-a', image: 'registry.local/shop/orders:2.0.0' }], migrations: [{ ref: 'orders-currency@1', shards: 2, rowsMigrated: 2001 }], contracted: false, durationMs: 60_000 }, 'verify', `${completedRun}-done`, at(60)),
    ],
  });
  await insertFinishedRun(store.pool, {
    id: rolledBackRun, status: 'rolled-back', policyName: 'shop-2026-11', started: at(100), finished: at(150), waves: 1,
    events: [
      plannedEvent(rolledBackRun), waveCompleted(rolledBackRun, 0, 'customers'),
      runEvent('rollout.wave.failed', { runId: rolledBackRun, wave: 1, reason: 'orders in upshift-a: progress deadline exceeded', targets: [{ service: 'orders', cluster: 'upshift-a', reason: 'ProgressDeadlineExceeded' }] }, 'rollout', `${rolledBackRun}-failed`, at(130)),
      runEvent('upgrade.rolled-back', { runId: rolledBackRun, stage: 'rollout', reason: 'wave 2 failed', restoredShards: 0, revertedWorkloads: 2 }, 'rollout', `${rolledBackRun}-rb`, at(150)),
    ],
  });
});

after(async () => {
  await store?.drop();
});

const env = () => ({ ...process.env, DATABASE_URL: store.url, KAFKA_BROKERS: '' });

test('watch on a completed run prints its final state and exits 0', { skip: needsPostgres }, async () => {
  const { code, stdout, stderr } = await upshift(['watch', completedRun], env());
  assert.equal(code, 0, stderr);
  assert.match(stdout, /run run-completed-1 {2}policy shop-2026-11/);
  assert.match(stdout, /\[ok\] orders@upshift-a +registry\.local\/shop\/orders:1\.0\.0 -> 2\.0\.0/);
  assert.match(stdout, /orders-currency@1 +postgres +\[#{20}\] +2\/2 shards +2,001 rows/);
  assert.match(stdout, /\[ok\] no-old-version +0 left at the old version/);
  assert.match(stdout, /result: COMPLETED in 1m00s - 2 workloads at target, 2001 rows\/documents migrated/);
  assert.match(stdout, /trace 0af7651916cd43dd8448eb211c80319c/);
});

test('watch on a rolled-back run prints the failure and exits 1', { skip: needsPostgres }, async () => {
  const { code, stdout } = await upshift(['watch', rolledBackRun], env());
  assert.equal(code, 1);
  assert.match(stdout, /^ {2}wave 1 of 2 {2}reverted$/m, 'waves are counted from 1 for people (0 in the events)');
  assert.match(stdout, /! wave 2 of 2: orders in upshift-a: progress deadline exceeded/);
  assert.match(stdout, /result: ROLLED BACK - 2 workloads reverted, 0 shards restored\nreason: wave 2 failed/);
});

test('watch --json on a finished run prints one document with the outcome', { skip: needsPostgres }, async () => {
  const { code, stdout } = await upshift(['watch', rolledBackRun, '--json'], env());
  assert.equal(code, 1);
  const doc = JSON.parse(stdout) as { outcome: { name: string; success: boolean }; waves: unknown[] };
  assert.deepEqual([doc.outcome.name, doc.outcome.success, doc.waves.length], ['upgrade.rolled-back', false, 2]);
});

test('watch of an unknown run gives up after --timeout with exit 1; a bad run id is a usage error', { skip: needsPostgres }, async () => {
  const unknown = await upshift(['watch', 'no-such-run', '--timeout', '1'], env());
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /did not end within 1s/);
  assert.equal((await upshift(['watch', 'Not_A_Run'], env())).code, 2);
});

test('status --json lists recent runs newest first, and shows one run with its steps', { skip: needsPostgres }, async () => {
  const list = await upshift(['status', '--json'], env());
  assert.equal(list.code, 0, list.stderr);
  const { runs } = JSON.parse(list.stdout) as { runs: Array<{ id: string; policy: string; status: string; durationMs: number }> };
  assert.deepEqual(runs.map((r) => [r.id, r.policy, r.status, r.durationMs]), [[rolledBackRun, 'shop-2026-11', 'rolled-back', 50_000], [completedRun, 'shop-2026-11', 'completed', 60_000]]);
  const one = await upshift(['status', completedRun, '--json'], env());
  assert.equal(one.code, 0, one.stderr);
  const doc = JSON.parse(one.stdout) as { run: { status: string }; view: { migrations: Array<{ shardsCompleted: number; rowsMigrated: number }>; checks: unknown[] }; steps: Array<{ kind: string; key: string; status: string }> };
  assert.equal(doc.run.status, 'completed');
  assert.deepEqual(doc.view.migrations.map((m) => [m.shardsCompleted, m.rowsMigrated]), [[2, 2001]]);
  assert.equal(doc.view.checks.length, 1);
  assert.deepEqual(doc.steps.map((s) => `${s.kind}/${s.key}:${s.status}`), ['wave/0:completed', 'wave/1:completed']);
});

test('status as text: the runs table, and an unknown run exits 1', { skip: needsPostgres }, async () => {
  const table = await upshift(['status'], env());
  assert.equal(table.code, 0);
  assert.match(table.stdout, /^RUN +POLICY +STATUS +STARTED \(UTC\) +DURATION\nrun-rolled-back-1 +shop-2026-11 +rolled-back +2026-11-23 10:01:40 +50s\n/);
  const one = await upshift(['status', completedRun], env());
  assert.equal(one.code, 0, one.stderr);
  assert.match(one.stdout, /^ {2}wave 2 of 2 {2}done$/m, 'the frame counts waves from 1');
  assert.match(one.stdout, /^ {2}wave +1 of 2 +completed +\d+ /m, 'so do the keys of the wave steps (0-based in the store and in --json)');
  const missing = await upshift(['status', 'no-such-run'], env());
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no run no-such-run/);
});

test('watch keeps following when its control-store connection is terminated mid-run', { skip: needsPostgres, timeout: 60_000 }, async () => {
  const runId = 'run-live-1';
  await store.pool.query(`INSERT INTO upshift.runs (id, status, request, plan, created_at, updated_at) VALUES ($1, 'running', $2, $3, now(), now())`,
    [runId, JSON.stringify({ policy: { metadata: { name: 'shop-2026-11' } } }), JSON.stringify({ runId, policyName: 'shop-2026-11', dryRun: false, waves: [], migrations: [], clusters: [], strategy: {} })]);
  // Connections are terminated once the watch follows (its first frame is out): from then on it must not stop.
  let following: () => void = () => undefined;
  const firstFrame = new Promise<void>((resolve) => { following = resolve; });
  const watching = upshift(['watch', runId, '--timeout', '50'], env(), (stdout) => { if (stdout.includes(runId)) following(); });
  await Promise.race([firstFrame, watching.then((early) => assert.fail(`watch ended before following: ${early.code} ${early.stderr}`))]);
  const database = new URL(store.url).pathname.slice(1);
  const terminate = async () => (await store.pool.query<{ n: number }>(
    `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'upshift-cli'`, [database])).rows[0]?.n ?? 0;
  let terminated = 0;
  for (let i = 0; i < 100 && terminated < 2; i += 1) {
    terminated += await terminate();
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.ok(terminated >= 2, `terminated ${terminated} watch connections`);
  const done = runEvent('upgrade.completed', { runId, policyName: 'shop-2026-11', services: [], migrations: [], contracted: false, durationMs: 5000 }, 'verify', `${runId}-done`, new Date());
  await store.pool.query(`INSERT INTO upshift.outbox (source, id, type, topic, partition_key, event, sent_at) VALUES ($1, $2, $3, 'upshift.lifecycle', $4, $5, now())`,
    [done.source, done.id, done.type, done.partitionkey, JSON.stringify(done)]);
  await store.pool.query(`UPDATE upshift.runs SET status = 'completed', finished_at = now() WHERE id = $1`, [runId]);
  const { code, stdout, stderr } = await watching;
  assert.equal(code, 0, `${stderr}\n${stdout}`);
  assert.match(stdout, /result: COMPLETED/);
});
