/**
 * The HTTP server's rules with in-memory documents and a recording publisher: who may send a control,
 * what is refused and why, and the headers that keep a page from running anything but its own code.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { Server } from 'node:http';
import type { AnyUpshiftEvent } from '@upshift/events';
import type { AccessSettings } from '../../src/core/access.ts';
import type { ControlRequestData } from '../../src/core/control-request.ts';
import { LiveDocuments } from '../../src/adapters/live.ts';
import { createDashboardServer } from '../../src/http/server.ts';

const token = 'test-token-0123456789abcdef';
const openRun = '01a234b8-ee7f-7d90-85c9-a684e9085072';
const endedRun = '01a234b8-ee7f-7d90-85c9-a684e9085073';

interface Started { base: string; port: number; published: ControlRequestData[]; server: Server; live: LiveDocuments }
const started: Started[] = [];

async function start(access: AccessSettings, withPublisher = true): Promise<Started> {
  const published: ControlRequestData[] = [];
  const live = new LiveDocuments({ coalesceMs: 10, tickMs: 60_000, keepMs: 1000, now: Date.now, onError: () => undefined });
  let port = 0;
  const server = createDashboardServer({
    access, live, log: () => undefined,
    runsList: () => async () => ({ json: JSON.stringify({ runs: [{ id: openRun, policyName: 'shop' }] }), live: true }),
    run: (runId) => async () => (runId === openRun ? { json: JSON.stringify({ runId, policyName: '<script>alert(1)</script>' }), live: true } : undefined),
    runOpen: async (runId) => (runId === openRun ? true : runId === endedRun ? false : undefined),
    publisher: withPublisher ? { publish: async (data) => { published.push(data); return {} as AnyUpshiftEvent; }, close: async () => undefined } : undefined,
  }, { host: '127.0.0.1', port: () => port });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  const s = { base: `http://127.0.0.1:${port}`, port, published, server, live };
  started.push(s);
  return s;
}

after(async () => {
  for (const s of started) {
    s.live.close();
    s.server.closeAllConnections();
    await new Promise((resolve) => s.server.close(resolve));
  }
});

function control(s: Started, body: unknown, headers: Record<string, string> = {}, runId = openRun): Promise<Response> {
  return fetch(`${s.base}/api/runs/${runId}/controls`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, origin: s.base, 'sec-fetch-site': 'same-origin', ...headers }, body: JSON.stringify(body),
  });
}

let withToken: Started;
let readOnly: Started;
let noToken: Started;
before(async () => {
  withToken = await start({ readOnly: false, token, noAuth: false });
  readOnly = await start({ readOnly: true, token, noAuth: false });
  noToken = await start({ readOnly: false, token: undefined, noAuth: false });
});

test('a control with the token from the page is published as requested by dashboard:<operator> and answered 202', async () => {
  const response = await control(withToken, { action: 'throttle', operator: 'alice', throttle: { rowsPerSecond: 250 } });
  assert.equal(response.status, 202);
  const body = await response.json() as { controlId: string; requestedBy: string };
  assert.equal(body.requestedBy, 'dashboard:alice');
  assert.deepEqual(withToken.published.map((d) => [d.runId, d.action, d.requestedBy, d.throttle, d.controlId]), [[openRun, 'throttle', 'dashboard:alice', { rowsPerSecond: 250 }, body.controlId]]);
});

test('controls are refused, and nothing is published, when they should be', async () => {
  const before = withToken.published.length;
  const cases: Array<[string, Promise<Response>, number]> = [
    ['read-only, even with the token', control(readOnly, { action: 'pause', operator: 'alice' }), 403],
    ['no token configured', control(noToken, { action: 'pause', operator: 'alice' }), 403],
    ['no token sent', control(withToken, { action: 'pause', operator: 'alice' }, { authorization: '' }), 401],
    ['a wrong token', control(withToken, { action: 'pause', operator: 'alice' }, { authorization: 'Bearer not-the-token-at-all' }), 401],
    ['from another site', control(withToken, { action: 'pause', operator: 'alice' }, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }), 403],
    ['not JSON (a form post)', control(withToken, { action: 'pause', operator: 'alice' }, { 'content-type': 'application/x-www-form-urlencoded' }), 415],
    ['an invalid body', control(withToken, { action: 'pause', operator: '<b>x</b>' }), 400],
    ['an ended run', control(withToken, { action: 'abort', operator: 'alice' }, {}, endedRun), 409],
    ['an unknown run', control(withToken, { action: 'abort', operator: 'alice' }, {}, '01a234b8-0000-0000-0000-000000000000'), 404],
    ['a GET', fetch(`${withToken.base}/api/runs/${openRun}/controls`), 405],
  ];
  for (const [what, response, status] of cases) assert.equal((await response).status, status, what);
  assert.equal(withToken.published.length, before);
  assert.equal(readOnly.published.length, 0);
});

test('the page is told whether controls are on, so a read-only dashboard shows no buttons', async () => {
  assert.deepEqual(await (await fetch(`${readOnly.base}/api/config`)).json(), { controls: { enabled: false, reason: 'read-only dashboard (--read-only)' } });
  assert.deepEqual(await (await fetch(`${withToken.base}/api/config`)).json(), { controls: { enabled: true, needsToken: true } });
  const withoutBrokers = await start({ readOnly: false, token, noAuth: false }, false);
  assert.equal((await (await fetch(`${withoutBrokers.base}/api/config`)).json() as { controls: { enabled: boolean } }).controls.enabled, false);
});

test('every answer carries a strict CSP; data is JSON, never HTML; the page shell holds no data', async () => {
  for (const path of ['/', `/runs/${openRun}`, `/api/runs/${openRun}`, '/api/runs', '/static/app.js', '/vendor/preact.mjs', '/nope']) {
    const response = await fetch(`${withToken.base}${path}`);
    const csp = response.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/, path);
    assert.match(csp, /script-src 'self' 'sha256-[A-Za-z0-9+/=]+'(;|$)/, path);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, path);
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff', path);
  }
  const run = await fetch(`${withToken.base}/api/runs/${openRun}`);
  assert.match(run.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal((await run.json() as { policyName: string }).policyName, '<script>alert(1)</script>', 'JSON carries the text as is; the page renders it as text');
  const shell = await (await fetch(`${withToken.base}/runs/${openRun}`)).text();
  assert.doesNotMatch(shell, /alert/);
});

test('only files of the table are served: no path reaches the file system', async () => {
  for (const path of ['/static/../config.ts', '/static/%2e%2e/config.ts', '/vendor/../../package.json', '/static/app.ts', '/vendor/pg.mjs']) {
    assert.equal((await fetch(`${withToken.base}${path}`)).status, 404, path);
  }
  assert.equal((await fetch(`${withToken.base}/vendor/htm.mjs`)).status, 200);
});

test('a request naming another host (DNS rebinding) is refused before anything else', async () => {
  const { request } = await import('node:http');
  const status = await new Promise<number>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: withToken.port, path: '/api/runs', headers: { host: `rebound.example:${withToken.port}` } }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
    req.on('error', reject);
    req.end();
  });
  assert.equal(status, 421);
});

test('a run stream sends the current document first, as one SSE event with an id', async () => {
  const response = await fetch(`${withToken.base}/api/runs/${openRun}/stream`);
  assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
  const reader = response.body!.getReader();
  let text = '';
  while (!text.includes('\n\nevent: run')) text += new TextDecoder().decode((await reader.read()).value);
  while (!/data: .*\n\n/.test(text)) text += new TextDecoder().decode((await reader.read()).value);
  await reader.cancel();
  assert.match(text, /^retry: 1000\n\nevent: run\nid: [a-z0-9]+\.1\ndata: \{"runId":"01a234b8-ee7f-7d90-85c9-a684e9085072",/);
  const missing = await fetch(`${withToken.base}/api/runs/01a234b8-0000-0000-0000-000000000000/stream`);
  assert.match(await missing.text(), /event: missing/);
});
