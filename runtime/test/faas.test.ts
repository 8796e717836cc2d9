/**
 * A function module keeps the Knative functions shape: served by faas-js-runtime itself, it handles a
 * binary-mode CloudEvent exactly once and answers readiness from its real dependencies.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import { encodeHttp } from '@upshift/events';
import { freePort, stopChild } from '../src/dev/functions.ts';
import { cliEvent } from './support/publish.ts';
import { freshDatabase, freshTopics, functionEnv, stackEnv } from './support/stack.ts';

const env = stackEnv();
let db: Awaited<ReturnType<typeof freshDatabase>>;
let topics: Awaited<ReturnType<typeof freshTopics>>;
let child: ReturnType<typeof spawn> | undefined;
let url = '';

before(async () => {
  db = await freshDatabase(env);
  topics = await freshTopics(env);
  const port = await freePort();
  url = `http://127.0.0.1:${port}/`;
  child = spawn(process.execPath, [new URL('./support/faas-host.ts', import.meta.url).pathname], {
    env: { ...functionEnv(env, db.url, topics.prefix), PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await Promise.race([once(child.stdout!, 'data'), once(child, 'exit')])) as [Buffer | number];
  assert.match(String(line), /ready/, 'faas-js-runtime started the function');
});

after(async () => {
  if (child) await stopChild(child);
  await topics?.remove();
  await db?.drop();
});

test('faas-js-runtime serves a defineFunction module: handled once, then duplicate', { timeout: 30_000 }, async () => {
  const http = encodeHttp(cliEvent('migration.expand.requested', { runId: 'faas', migrations: ['orders-currency@1'] }));
  const first = await fetch(url, { method: 'POST', headers: http.headers, body: http.body });
  assert.equal(first.status, 200);
  assert.equal(((await first.json()) as { outcome: string }).outcome, 'handled');
  const second = await fetch(url, { method: 'POST', headers: http.headers, body: http.body });
  assert.equal(((await second.json()) as { outcome: string }).outcome, 'duplicate');
  const ready = await fetch(`${url}health/readiness`);
  assert.equal(ready.status, 200);
  assert.deepEqual(((await ready.json()) as { checks: object }).checks, { postgres: 'ok', kafka: 'ok' });
});

test('under faas-js-runtime a handler error keeps its delivery status', { timeout: 30_000 }, async () => {
  const http = encodeHttp(cliEvent('migration.expand.requested', { runId: 'refuse-faas', migrations: ['orders-currency@1'] }));
  const answer = await fetch(url, { method: 'POST', headers: http.headers, body: http.body });
  assert.equal(answer.status, 400);
});
