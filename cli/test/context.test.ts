/**
 * Commands find the stack by themselves: the stack records its endpoints in the context file (on `up`
 * and `env`), `upshift env` prints them as export lines with any Node on PATH, and every command takes
 * them as the lowest-priority default (flag > variable > context file). Uses a context file of its own
 * (UPSHIFT_CONTEXT) and a fresh control store; the shared stack is not restarted.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshControlStore, insertFinishedRun, type TestStore } from './support/control-store.ts';
import { upshift } from './support/run.ts';

const needsPostgres = process.env.POSTGRES_ADMIN_URL ? false : 'POSTGRES_ADMIN_URL not set: run through npm test';
const repo = new URL('../../', import.meta.url).pathname;
const bin = join(repo, 'cli/bin/upshift.js');
const pinnedNode = process.execPath;
/** The machine's own Node (20 here), if it has one apart from the pinned Node 24. */
const systemNode = ['/usr/bin/node', '/usr/local/bin/node'].find((path) => existsSync(path));
const dir = mkdtempSync(join(tmpdir(), 'upshift-context-'));
let store: TestStore;

/** A fresh shell's environment: no endpoint variables at all, the pinned Node not on PATH. */
function freshShell(context: string): NodeJS.ProcessEnv {
  return { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: process.env.HOME, UPSHIFT_CONTEXT: context };
}

function writeContext(name: string, env: Record<string, string>): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify({ version: 1, name: 'test', env }));
  return path;
}

before(async () => {
  if (needsPostgres) return;
  store = await freshControlStore();
  const started = new Date('2026-11-23T10:00:00.000Z');
  await insertFinishedRun(store.pool, { id: 'run-context-1', status: 'completed', policyName: 'context-policy', started, finished: new Date(started.getTime() + 5000), events: [], waves: 1 });
});

after(async () => {
  await store?.drop();
});

test('the stack records its endpoints on env; upshift env prints them as export lines a shell evaluates', { skip: needsPostgres }, () => {
  const context = join(dir, 'recorded', 'context.json');
  const stack = spawnSync(pinnedNode, [join(repo, 'stack/src/cli.ts'), 'env'], { env: { ...process.env, UPSHIFT_CONTEXT: context }, encoding: 'utf8' });
  assert.equal(stack.status, 0, stack.stderr);
  const recorded = JSON.parse(readFileSync(context, 'utf8')) as { env: Record<string, string> };
  assert.equal(recorded.env.DATABASE_URL, process.env.DATABASE_URL, 'the file holds what stack env printed');
  const printed = spawnSync(pinnedNode, [bin, 'env'], { env: freshShell(context), encoding: 'utf8' });
  assert.equal(printed.status, 0, printed.stderr);
  const lines = (text: string) => text.trim().split('\n').sort();
  assert.deepEqual(lines(printed.stdout), lines(stack.stdout), 'upshift env prints what the stack printed');
  const node = systemNode ?? pinnedNode;
  const shell = spawnSync('bash', ['-c', `eval "$(${node} ${bin} env)" && echo "$DATABASE_URL|$KAFKA_BROKERS"`], { env: freshShell(context), encoding: 'utf8' });
  assert.equal(shell.stdout.trim(), `${process.env.DATABASE_URL}|${process.env.KAFKA_BROKERS}`, shell.stderr);
  const missing = spawnSync(pinnedNode, [bin, 'env'], { env: freshShell(join(dir, 'none.json')), encoding: 'utf8' });
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /no context file at .*none\.json: start the local stack/);
});

test('the bin runs under the machine\'s older Node by re-running itself with the pinned Node 24', { skip: systemNode ? false : 'no system Node apart from the pinned one' }, () => {
  const result = spawnSync(systemNode ?? '', [bin, '--version'], { env: { PATH: '/usr/bin:/bin', HOME: process.env.HOME }, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /^upshift \S+ \(node v24\./);
  const failing = spawnSync(systemNode ?? '', [bin, 'status', '--bogus'], { env: { PATH: '/usr/bin:/bin', HOME: process.env.HOME }, encoding: 'utf8' });
  assert.equal(failing.status, 2, 'the exit code comes through');
});

test('status finds the control store from the context file in a fresh shell; a variable beats the file, a flag beats both', { skip: needsPostgres }, async () => {
  const context = writeContext('store.json', { DATABASE_URL: store.url });
  const fromContext = await upshift(['status'], freshShell(context));
  assert.equal(fromContext.code, 0, fromContext.stderr);
  assert.match(fromContext.stdout, /run-context-1 +context-policy +completed/);
  const unreachable = 'postgres://upshift@127.0.0.1:1/nothing';
  const fromVariable = await upshift(['status'], { ...freshShell(context), DATABASE_URL: unreachable });
  assert.equal(fromVariable.code, 1, 'the variable wins over the context file');
  assert.match(fromVariable.stderr, /ECONNREFUSED 127\.0\.0\.1:1/);
  const fromFlag = await upshift(['status', '--database-url', store.url], { ...freshShell(context), DATABASE_URL: unreachable });
  assert.equal(fromFlag.code, 0, 'the flag wins over both');
  const noContext = await upshift(['status'], freshShell(join(dir, 'none.json')));
  assert.equal(noContext.code, 2);
  assert.match(noContext.stderr, /no control store: pass --database-url, set DATABASE_URL, or start the local stack/);
  const broken = join(dir, 'broken.json');
  writeFileSync(broken, '{"version": 1, "env": {"DATABASE_URL": 3}}');
  const brokenContext = await upshift(['status', '--database-url', store.url], freshShell(broken));
  assert.equal(brokenContext.code, 0);
  assert.match(brokenContext.stderr, /ignoring the context file: .*broken\.json: not an upshift context file/);
});
