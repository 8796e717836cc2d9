/**
 * The dashboard in a real browser (Debian's chromium via playwright-core) against the real stack: the
 * four functions as child processes of `upshift dev` (restarted like pods), a slow migration (every row
 * update costs a few ms), the dashboard server on the run's control store. A page opened mid-run shows
 * the shards moving without a reload; a throttle shows as set; pause shows the run paused (state and who
 * asked) and the rows stop; a kill -9 of migrate-shard while paused leaves it paused, the rows still, on
 * the page and in the store; resume and clearing the throttle let it complete; abort, after its
 * confirmation, rolls a second run back.
 * Names with markup stay text. Screenshots of the runs list and the run pages go to
 * test-output/dashboard/<time>/ (printed).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { entryFor, fixtureJson } from '@upshift/events';
import { viewRunControl } from '@upshift/runtime';
import { startShardTest, type ShardTest } from '../../functions/migrate-shard/test/support.ts';
import { requestOrdersRun, rowsDone, runEnds, seedCountedOrders, shardCheckpoints, until } from '../../test/faults/shard-run.ts';
import { parseDashboardConfig, startDashboard, type Dashboard } from '../src/index.ts';
import { launchBrowser, screenshotsDir } from './support/browser.ts';

const token = 'browser-test-token-0123456789';
const rows = 4000;
const msPerRow = 4;
let t: ShardTest;
let dashboard: Dashboard;
let browser: Browser;
let shots: string;

before(async () => {
  browser = await launchBrowser(); // first: a machine without chromium fails here, saying what to install
  t = await startShardTest({ functions: ['plan', 'rollout', 'migrate-shard', 'verify'], mode: 'process' }); // process: migrate-shard can be killed
  const config = parseDashboardConfig({
    databaseUrl: t.harness.databaseUrl, brokers: t.harness.env.KAFKA_BROKERS?.split(','), topicPrefix: t.harness.prefix, token, port: 0,
    jaegerUrl: t.harness.env.JAEGER_QUERY_URL,
  });
  assert.ok(config.ok, JSON.stringify(config));
  dashboard = await startDashboard(config.config, { log: () => undefined });
  shots = screenshotsDir('dashboard');
  console.log(`dashboard screenshots: ${shots}`);
});

after(async () => {
  await browser?.close();
  await dashboard?.close();
  await t?.stop();
});

async function openPage(path: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1300, height: 1000 } });
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('console', (message) => { if (message.type() === 'error') problems.push(message.text()); });
  (page as Page & { problems: string[] }).problems = problems;
  await page.goto(`${dashboard.url}${path}#token=${token}`);
  return page;
}

function problemsOf(page: Page): string[] {
  return (page as Page & { problems?: string[] }).problems ?? [];
}

/** The migration's "rows so far" as the page shows it. */
async function shownRows(page: Page): Promise<string> {
  return (await page.locator('[data-migration="orders-currency@1"] [data-testid=migration-rows]').textContent()) ?? '';
}

/** The number in the page's "rows so far" (`1,234 / 4,000 rows` → 1234). */
function rowsIn(shown: string): number {
  const match = /^\s*([\d,]+)/.exec(shown);
  assert.ok(match, `no row count in "${shown}"`);
  return Number(match[1]?.replace(/,/g, ''));
}

test('a run followed live in the browser: shards move without reload; throttle, pause (kept across a kill -9 of migrate-shard), resume and unthrottle from the page; it completes', { timeout: 240_000 }, async () => {
  await seedCountedOrders(t.shop, rows, msPerRow);
  const run = await requestOrdersRun(t, 4, 50);
  try {
    const list = await openPage('');
    await list.locator(`tr[data-run="${run.runId}"]`).waitFor({ timeout: 30_000 });
    await list.screenshot({ path: join(shots, 'runs-list.png'), fullPage: true });
    await list.close();

    await until(async () => (rowsDone(await shardCheckpoints(t.control, run.runId)) > 0 ? true : undefined), 90_000, 'no shard moved');
    const page = await openPage(`runs/${run.runId}`);
    await page.locator('[data-migration="orders-currency@1"] table.shards tbody tr').first().waitFor({ timeout: 15_000 });
    await page.evaluate(() => { (globalThis as { sameDocument?: boolean }).sameDocument = true; });
    const first = await shownRows(page);
    const moved = Date.now();
    await until(async () => ((await shownRows(page)) !== first ? true : undefined), 10_000, 'the shown rows did not change');
    console.log(`shard progress on the open page: "${first}" -> "${await shownRows(page)}" after ${Date.now() - moved} ms, without reload`);

    await page.fill('input[name=operator]', 'tester');
    await page.fill('input[name=rowsPerSecond]', '50');
    await page.click('button[data-action=throttle]');
    await page.locator('[data-testid=control-state] .hold-throttled').waitFor({ timeout: 15_000 });
    assert.match(await page.locator('[data-testid=control-state]').textContent() ?? '', /50 rows\/s per shard/);
    assert.deepEqual((await viewRunControl(t.control, run.runId))?.throttle, { rowsPerSecond: 50 }, 'verify recorded the throttle');
    await page.locator('[data-testid=migration-speed] .hold-throttled').waitFor({ timeout: 5000 });

    const pressed = Date.now();
    await page.click('button[data-action=pause]');
    await page.locator('[data-testid=control-state] .hold-paused').waitFor({ timeout: 15_000 });
    const shownPausedMs = Date.now() - pressed;
    assert.match(await page.locator('[data-testid=control-by]').textContent() ?? '', /dashboard:tester/);
    await page.locator('[data-testid=migration-speed] .hold-paused').waitFor({ timeout: 5000 });
    const stored = await viewRunControl(t.control, run.runId);
    assert.equal(stored?.paused, true, 'verify recorded the pause');
    assert.equal(stored?.updatedBy, 'dashboard:tester');
    const stoppedAt = await rowsStopped(run.runId, pressed);
    console.log(`pause: shown as paused on the page ${shownPausedMs} ms after the click; rows last seen moving ${stoppedAt.afterMs} ms after the click, then stayed at ${stoppedAt.rows} of ${rows}`);
    assert.ok(stoppedAt.rows < rows, 'paused before the end');
    const shownAtPause = await until(async () => { const n = rowsIn(await shownRows(page)); return n === stoppedAt.rows ? n : undefined; }, 5000, `the page did not show the store's ${stoppedAt.rows} rows`);
    await page.screenshot({ path: join(shots, 'run-paused.png'), fullPage: true });

    const kept = await pausedAcrossRestart(page, run.runId, 4000);
    assert.equal(kept.maxStoreRows, stoppedAt.rows, 'no checkpoint moved while paused, across the restart (store)');
    assert.deepEqual(kept.shownSeen, [shownAtPause], 'the page showed the same rows the whole time');
    assert.equal(rowsDone(await shardCheckpoints(t.control, run.runId)), stoppedAt.rows);
    assert.equal(await page.locator('[data-testid=control-state] .hold-paused').count(), 1, 'still shown paused (control state)');
    assert.equal(await page.locator('[data-migration="orders-currency@1"] [data-testid=migration-speed] .hold-paused').count(), 1, 'still shown paused (migration speed)');
    assert.equal((await viewRunControl(t.control, run.runId))?.paused, true, 'still paused in the control store');
    console.log(`kill -9 of migrate-shard (pid ${kept.killedPid}) while paused: restarted as pid ${kept.restartedPid} after ${kept.restartMs} ms; `
      + `rows at pause ${stoppedAt.rows} (page ${shownAtPause}), ${kept.waitMs} ms after the restart ${kept.maxStoreRows} (page ${kept.shownSeen.join(', ')}), still paused`);
    await page.screenshot({ path: join(shots, 'run-paused-after-restart.png'), fullPage: true });

    const resumedAt = Date.now();
    await page.click('button[data-action=resume]');
    await page.locator('[data-testid=control-state] .hold-paused').waitFor({ state: 'detached', timeout: 15_000 });
    await page.fill('input[name=rowsPerSecond]', '');
    await page.click('button[data-action=throttle]'); // an empty rate clears the throttle
    await page.locator('[data-testid=control-state] .hold-throttled').waitFor({ state: 'detached', timeout: 15_000 });
    await page.locator('[data-testid=run-outcome]').waitFor({ timeout: 120_000 });
    assert.match(await page.locator('[data-testid=run-outcome]').textContent() ?? '', /completed/);
    console.log(`resume (and unthrottle) from the page: completed on the page ${Date.now() - resumedAt} ms after the click, ${rowsIn(await shownRows(page))} of ${rows} rows shown`);
    assert.equal(await page.evaluate(() => (globalThis as { sameDocument?: boolean }).sameDocument), true, 'the page was never reloaded');
    await page.screenshot({ path: join(shots, 'run-completed.png'), fullPage: true });
    assert.deepEqual(problemsOf(page), [], 'no script error and no CSP violation on the page');
    await page.close();
    const end = await t.harness.waitFor(run.runId, [...runEnds], 10_000);
    assert.equal(end.type, 'dev.upshift.upgrade.completed.v1');
  } finally {
    await run.remove();
  }

  /**
   * Waits until the shards' rows stop moving after a pause (unchanged for 1.5 s); returns them and when
   * they were last seen moving, from the click (0: they had stopped by the first look).
   */
  async function rowsStopped(runId: string, clicked: number): Promise<{ rows: number; afterMs: number }> {
    let last = rowsDone(await shardCheckpoints(t.control, runId));
    let lastChange = clicked;
    return until(async () => {
      const now = rowsDone(await shardCheckpoints(t.control, runId));
      if (now !== last) {
        last = now;
        lastChange = Date.now();
        return undefined;
      }
      return Date.now() - lastChange >= 1500 ? { rows: now, afterMs: lastChange - clicked } : undefined;
    }, 20_000, 'the rows did not stop after the pause');
  }

  /**
   * SIGKILLs migrate-shard (a child of `upshift dev`), waits for the restarted process to pass its
   * readiness probe, then watches for `waitMs` more: the highest rows done in the store and every rows
   * value the page showed, from the kill on.
   */
  async function pausedAcrossRestart(page: Page, runId: string, waitMs: number) {
    const worker = t.harness.dev.functions.find((f) => f.name === 'migrate-shard');
    const victim = worker?.child;
    assert.ok(victim?.pid, 'migrate-shard runs as a process');
    const killedPid = victim.pid;
    let maxStoreRows = 0;
    const shownSeen = new Set<number>();
    const look = async () => {
      maxStoreRows = Math.max(maxStoreRows, rowsDone(await shardCheckpoints(t.control, runId)));
      shownSeen.add(rowsIn(await shownRows(page)));
    };
    const killedAt = Date.now();
    victim.kill('SIGKILL');
    const restartedPid = await until(async () => { await look(); const pid = worker?.child?.pid; return pid && pid !== killedPid ? pid : undefined; }, 30_000, 'migrate-shard was not restarted');
    const restartMs = Date.now() - killedAt;
    assert.ok((await fetch(`${worker?.url}health/readiness`)).ok, 'the restarted migrate-shard is ready');
    const restartedAt = Date.now();
    while (Date.now() - restartedAt < waitMs) {
      await look();
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await look();
    return { killedPid, restartedPid, restartMs, waitMs: Date.now() - restartedAt, maxStoreRows, shownSeen: [...shownSeen] };
  }
});

test('abort from the page, after its confirmation, rolls a running run back', { timeout: 240_000 }, async () => {
  await seedCountedOrders(t.shop, rows, msPerRow);
  const run = await requestOrdersRun(t, 4, 50);
  try {
    await until(async () => (rowsDone(await shardCheckpoints(t.control, run.runId)) > 0 ? true : undefined), 90_000, 'no shard moved');
    const page = await openPage(`runs/${run.runId}`);
    await page.locator('[data-migration="orders-currency@1"] table.shards tbody tr').first().waitFor({ timeout: 15_000 });
    await page.fill('input[name=operator]', 'tester');
    await page.click('button[data-action=abort]');
    const confirm = page.locator('[role=alertdialog]');
    await confirm.waitFor({ timeout: 5000 });
    assert.match(await confirm.textContent() ?? '', new RegExp(`Abort run ${run.runId}`));
    await page.screenshot({ path: join(shots, 'run-abort-confirmation.png'), fullPage: true });
    await page.click('button[data-action=confirm-abort]');
    await page.locator('[data-testid=run-outcome]').waitFor({ timeout: 120_000 });
    assert.match(await page.locator('[data-testid=run-outcome]').textContent() ?? '', /rolled back/);
    await page.locator(`[data-restore="orders-currency@1"]`).waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(shots, 'run-rolled-back.png'), fullPage: true });
    assert.deepEqual(problemsOf(page), []);
    await page.close();
    const end = await t.harness.waitFor(run.runId, [...runEnds], 10_000);
    assert.equal(end.type, 'dev.upshift.upgrade.rolled-back.v1');
  } finally {
    await run.remove();
  }
});

test('names with markup are shown as text, the trace links to Jaeger, and no secret reaches the page', async () => {
  const runId = '01a234b8-0000-7000-8000-00000000beef';
  const markup = '<img src=x onerror="window.injected=1">';
  await t.control.query(`INSERT INTO upshift.runs (id, status, request) VALUES ($1, 'running', $2)`, [runId, JSON.stringify({ policy: { metadata: { name: markup } } })]);
  await t.control.query(`INSERT INTO upshift.steps (run_id, kind, key, status, checkpoint) VALUES ($1, 'shard', $2, 'failed', $3)`,
    [runId, `${runId}:orders-currency@1:0`, JSON.stringify({ migration: 'orders-currency@1', index: 0, estimatedRows: 10, checkpoint: { scanned: 3, changed: 3, batchSize: 5 }, failure: { error: '<script>window.injected=2</script>', key: '<b>42</b>' } })]);
  const progress = fixtureJson('run.progress') as { data: Record<string, unknown> };
  const traced = { ...progress, id: 'progress-with-trace', subject: runId, partitionkey: runId, traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', data: { ...progress.data, runId, message: markup } };
  await t.control.query(`INSERT INTO upshift.outbox (source, id, type, topic, partition_key, event, sent_at) VALUES ('/upshift/verify', 'progress-with-trace', $1, 'upshift.lifecycle', $2, $3, now())`,
    [entryFor('run.progress').type, runId, JSON.stringify(traced)]);
  const page = await openPage(`runs/${runId}`);
  await page.locator('[data-shard="0"]').waitFor({ timeout: 10_000 });
  assert.equal(await page.locator('[data-testid=trace-link]').getAttribute('href'), `${t.harness.env.JAEGER_QUERY_URL}/trace/4bf92f3577b34da6a3ce929d0e0e4736`);
  assert.match(await page.locator('.message').textContent() ?? '', /^<img src=x onerror="window.injected=1">$/);
  assert.equal(await page.evaluate(() => (globalThis as { injected?: number }).injected), undefined, 'nothing injected ran');
  assert.equal(await page.locator('img[src=x], #app script, #app b').count(), 0, 'no element was made from a value');
  assert.match(await page.locator('[data-shard="0"] td.error').textContent() ?? '', /key <b>42<\/b>: <script>window.injected=2<\/script>/);
  await page.goto(`${dashboard.url}`);
  await page.locator(`tr[data-run="${runId}"]`).waitFor({ timeout: 10_000 });
  assert.equal(await page.locator(`tr[data-run="${runId}"] td`).nth(1).textContent(), markup);
  assert.equal(await page.evaluate(() => (globalThis as { injected?: number }).injected), undefined);
  await page.close();

  const { password } = new URL(t.harness.databaseUrl);
  for (const path of ['', `runs/${runId}`, 'api/config', 'api/runs', `api/runs/${runId}`, 'static/app.js']) {
    const body = await (await fetch(`${dashboard.url}${path}`)).text();
    assert.ok(!body.includes(t.harness.databaseUrl) && (password === '' || !body.includes(password)), `${path || '/'} shows no connection URL`);
  }
});

test('a read-only dashboard shows no controls and refuses them', async () => {
  const config = parseDashboardConfig({ databaseUrl: t.harness.databaseUrl, brokers: t.harness.env.KAFKA_BROKERS?.split(','), topicPrefix: t.harness.prefix, token, port: 0, readOnly: true });
  assert.ok(config.ok);
  const readOnly = await startDashboard(config.config, { log: () => undefined });
  try {
    const runId = '01a234b8-0000-7000-8000-00000000cafe';
    await t.control.query(`INSERT INTO upshift.runs (id, status) VALUES ($1, 'running')`, [runId]);
    const page = await browser.newPage();
    await page.goto(`${readOnly.url}runs/${runId}`);
    await page.locator('[data-testid=controls-off]').waitFor({ timeout: 10_000 });
    assert.match(await page.locator('[data-testid=controls-off]').textContent() ?? '', /read-only/);
    assert.equal(await page.locator('button[data-action]').count(), 0);
    await page.close();
    const refused = await fetch(`${readOnly.url}api/runs/${runId}/controls`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ action: 'pause', operator: 'tester' }) });
    assert.equal(refused.status, 403);
  } finally {
    await readOnly.close();
  }
});
