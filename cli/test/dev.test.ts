/**
 * `upshift dev` against the real stack: the functions listen from --port-base on, a port in use is
 * replaced by a free one and printed, Ctrl-C stops them all (exit 0). Fresh database and topic prefix.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { createKafka, deletePrefixedTopics } from '@upshift/runtime';
import { freePort } from '@upshift/runtime/dev';
import { freshDatabase, stackEnv, uniqueSuffix } from '../../runtime/test/support/stack.ts';
import { portIsFree } from '../src/dev.ts';

const bin = new URL('../bin/upshift.js', import.meta.url).pathname;
const needsStack = process.env.KAFKA_BROKERS && process.env.POSTGRES_ADMIN_URL ? false : 'the stack is not up: eval "$(node stack/src/cli.ts env)"';

/** A base port whose next three ports are free too. */
async function freeBlock(): Promise<number> {
  for (;;) {
    const base = await freePort();
    const rest = await Promise.all([1, 2, 3].map((i) => portIsFree(base + i)));
    if (base + 3 <= 65535 && rest.every(Boolean)) return base;
  }
}

async function listen(port: number): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}

test('upshift dev listens from --port-base on, replaces a port in use by a free one, prints both, stops on SIGINT', { skip: needsStack, timeout: 180_000 }, async () => {
  const env = stackEnv();
  const db = await freshDatabase(env);
  const prefix = `cli-dev-${uniqueSuffix()}.`;
  const base = await freeBlock();
  const blocker = await listen(base + 2);
  const { OTLP_ENDPOINT: _otlp, ...stack } = env;
  const child = spawn(process.execPath, [bin, 'dev', '--port-base', String(base), '--topic-prefix', prefix], {
    env: { ...process.env, ...stack, DATABASE_URL: db.url, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const deadline = Date.now() + 150_000;
    while (!stdout.includes('Ctrl-C stops them')) {
      assert.equal(child.exitCode, null, `upshift dev exited early: ${stderr}`);
      assert.ok(Date.now() < deadline, `not ready in time: ${stdout}${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.match(stdout, new RegExp(`4 functions ready in [\\d.]+s, dispatching topics ${prefix.replace(/\./g, '\\.')}\\*`));
    assert.match(stdout, new RegExp(`plan +http://127\\.0\\.0\\.1:${base}/\n`));
    assert.match(stdout, new RegExp(`rollout +http://127\\.0\\.0\\.1:${base + 1}/\n`));
    assert.match(stdout, new RegExp(`migrate-shard +http://127\\.0\\.0\\.1:(\\d+)/ +\\(${base + 2} is in use\\)`));
    assert.match(stdout, new RegExp(`verify +http://127\\.0\\.0\\.1:${base + 3}/\n`));
    for (const url of stdout.matchAll(/http:\/\/127\.0\.0\.1:\d+\//g)) {
      assert.equal((await fetch(`${url[0]}health/readiness`)).status, 200, `${url[0]} is ready`);
    }
    child.kill('SIGINT');
    assert.equal(await exited, 0, stderr);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    blocker.close();
    const admin = createKafka((env.KAFKA_BROKERS ?? '').split(','), 'upshift-cli-test').admin();
    await admin.connect();
    await deletePrefixedTopics(admin, prefix).finally(() => admin.disconnect());
    await db.drop();
  }
});
