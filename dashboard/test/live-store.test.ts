/**
 * Live updates from the real control store: schema version 4's triggers NOTIFY a run's id when its row,
 * a step or an event of it changes; the dashboard pushes the re-read document to an open stream within
 * 1 s; the listening connection comes back after it is killed and reports the gap.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { createPool, listenRunChanges, migrateStore } from '@upshift/runtime';
import { freshDatabase, stackEnv } from '../../runtime/test/support/stack.ts';
import { until } from '../../test/faults/shard-run.ts';
import { parseDashboardConfig, startDashboard, type Dashboard } from '../src/index.ts';

const runId = '01a234b8-0000-7000-8000-0000000f00d5';
let db: Awaited<ReturnType<typeof freshDatabase>>;
let control: pg.Client;
let dashboard: Dashboard;

before(async () => {
  db = await freshDatabase(stackEnv());
  const pool = createPool(db.url);
  await migrateStore(pool);
  await pool.end();
  control = new pg.Client({ connectionString: db.url });
  await control.connect();
  await control.query(`INSERT INTO upshift.runs (id, status) VALUES ($1, 'running')`, [runId]);
  await control.query(`INSERT INTO upshift.steps (run_id, kind, key, status, checkpoint) VALUES ($1, 'shard', $2, 'running', $3)`,
    [runId, `${runId}:orders-currency@1:0`, JSON.stringify({ migration: 'orders-currency@1', index: 0, estimatedRows: 1000, checkpoint: { scanned: 0, changed: 0, batchSize: 100 } })]);
  const config = parseDashboardConfig({ databaseUrl: db.url, port: 0 });
  assert.ok(config.ok);
  // A slow tick, so a document that arrives fast arrived by NOTIFY.
  dashboard = await startDashboard(config.config, { log: () => undefined, tickMs: 60_000 });
});

after(async () => {
  await dashboard?.close();
  await control?.end();
  await db?.drop();
});

/** Reads SSE `data:` documents of a stream into `docs` until aborted. */
function follow(url: string, docs: Array<{ at: number; doc: { migrations?: Array<{ shards: Array<{ scanned: number }> }> } }>, signal: AbortSignal): Promise<void> {
  return (async () => {
    const response = await fetch(url, { signal });
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body!) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block.split('\n').find((line) => line.startsWith('data: '));
        if (data) docs.push({ at: Date.now(), doc: JSON.parse(data.slice(6)) });
      }
    }
  })().catch((error: unknown) => {
    if (!signal.aborted) throw error;
  });
}

test('a committed checkpoint reaches an open run stream within 1 s, by NOTIFY', async () => {
  const docs: Parameters<typeof follow>[1] = [];
  const stop = new AbortController();
  const reading = follow(`${dashboard.url}api/runs/${runId}/stream`, docs, stop.signal);
  try {
    await until(async () => (docs.length > 0 ? true : undefined), 5000, 'no snapshot on connect');
    assert.equal(docs[0]?.doc.migrations?.[0]?.shards[0]?.scanned, 0, 'the snapshot first');
    const latencies: number[] = [];
    for (const scanned of [100, 200, 300]) {
      await new Promise((resolve) => setTimeout(resolve, 700)); // past the coalescing window of the last change
      const committed = Date.now();
      await control.query(`UPDATE upshift.steps SET checkpoint = jsonb_set(checkpoint, '{checkpoint,scanned}', to_jsonb($2::int)) WHERE run_id = $1`, [runId, scanned]);
      const seen = await until(async () => docs.find((d) => d.doc.migrations?.[0]?.shards[0]?.scanned === scanned), 3000, `scanned ${scanned} not pushed`);
      latencies.push(seen.at - committed);
    }
    console.log(`commit → pushed to the open stream: ${latencies.join(', ')} ms`);
    assert.ok(Math.max(...latencies) < 1000, `every change reached the page within 1 s: ${latencies.join(', ')} ms`);
  } finally {
    stop.abort();
    await reading;
  }
});

test('the listening connection comes back after it is killed, reports the gap, and hears changes again', async () => {
  const heard: string[] = [];
  let reconnects = 0;
  const listener = listenRunChanges(db.url, { onRunChanged: (id) => heard.push(id), onReconnect: () => { reconnects += 1; } });
  try {
    await listener.ready;
    await control.query(`UPDATE upshift.runs SET updated_at = now() WHERE id = $1`, [runId]);
    await until(async () => (heard.includes(runId) ? true : undefined), 3000, 'no notification');
    const { rows } = await control.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'upshift-dashboard-listen' AND query ILIKE 'LISTEN%'`);
    assert.ok(rows.length >= 1, 'the listener connections are visible');
    for (const row of rows) await control.query('SELECT pg_terminate_backend($1)', [row.pid]);
    await until(async () => (reconnects > 0 ? true : undefined), 15_000, 'the listener did not reconnect');
    heard.length = 0;
    await control.query(`INSERT INTO upshift.outbox (source, id, type, topic, partition_key, event, sent_at) VALUES ('/upshift/verify', 'x1', 't', 'upshift.lifecycle', $1, '{"data":{}}', now())`, [runId]);
    await until(async () => (heard.includes(runId) ? true : undefined), 3000, 'no notification after the reconnect');
  } finally {
    await listener.stop();
  }
});
