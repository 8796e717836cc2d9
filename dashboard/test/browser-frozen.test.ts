/**
 * A frozen run in a real browser (Debian's chromium via playwright-core) against the real stack: plan,
 * rollout and verify under `upshift dev`, a kwok cluster, the dashboard on the run's control store. The
 * run freezes at wave 2 (its pods never get ready); the page shows it frozen with "retry wave 2" and
 * "roll back…"; once the workload is fixed, the retry pressed on the page makes the run go on, and the
 * same page shows it completed without a reload. A screenshot of the frozen run goes to test-output/.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { isEventOf } from '@upshift/events';
import { frozenAtWave2, frozenCluster, frozenImage, setFailing } from '../../test/support/frozen.ts';
import { freshNamespace, privateKubeconfig, running } from '../../test/support/kube.ts';
import { startHarness, type Harness } from '../../test/support/run.ts';
import { parseDashboardConfig, startDashboard, type Dashboard } from '../src/index.ts';
import { launchBrowser, screenshotsDir } from './support/browser.ts';

const token = 'browser-frozen-token-0123456789';
let harness: Harness;
let kubeconfig: ReturnType<typeof privateKubeconfig>;
let dashboard: Dashboard;
let browser: Browser;

before(async () => {
  browser = await launchBrowser(); // first: a machine without chromium fails here, saying what to install
  kubeconfig = privateKubeconfig();
  harness = await startHarness(['plan', 'rollout', 'verify']);
  const config = parseDashboardConfig({ databaseUrl: harness.databaseUrl, brokers: harness.env.KAFKA_BROKERS?.split(','), topicPrefix: harness.prefix, token, port: 0 });
  assert.ok(config.ok, JSON.stringify(config));
  dashboard = await startDashboard(config.config, { log: () => undefined });
});

after(async () => {
  await browser?.close();
  await dashboard?.close();
  await harness?.stop();
  kubeconfig?.remove();
});

test('a frozen run shows as frozen on its page; retry of its wave, pressed on the page, makes it go on and complete', { timeout: 180_000 }, async () => {
  const ns = await freshNamespace('frozen-ui');
  try {
    const runId = await frozenAtWave2(harness, ns.name);
    const page = await browser.newPage({ viewport: { width: 1300, height: 1000 } });
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(`${dashboard.url}runs/${runId}#token=${token}`);
    await page.locator('[data-testid=frozen]').waitFor({ timeout: 15_000 });
    assert.equal(await page.locator('[data-action=retry-wave]').textContent(), 'retry wave 2');
    assert.equal(await page.locator('[data-action=rollback]').count(), 1);
    await page.fill('input[name=operator]', 'dana');
    await page.screenshot({ path: join(screenshotsDir('dashboard-frozen'), 'frozen-run.png'), fullPage: true });

    await setFailing(ns.name, 'api', false);
    await page.click('[data-action=retry-wave]');
    const end = await harness.waitFor(runId, ['upgrade.completed', 'upgrade.rolled-back'], 90_000);
    assert.ok(isEventOf(end, 'upgrade.completed'), `${end.type}: ${JSON.stringify(end.data)}`);
    const answer = harness.eventsOf(runId).find((e) => isEventOf(e, 'run.control.applied') && e.data.action === 'retry');
    assert.ok(answer && isEventOf(answer, 'run.control.applied'));
    assert.equal(answer.data.requestedBy, 'dashboard:dana');
    assert.equal((await running(frozenCluster, ns.name, 'api')).image, frozenImage('api', '2.0.0'));
    await page.locator('[data-testid=frozen]').waitFor({ state: 'detached', timeout: 10_000 });
    assert.deepEqual(problems, [], 'no script errors on the page');
  } finally {
    await ns.remove();
  }
});
