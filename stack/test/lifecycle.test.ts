import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { ports } from '../src/versions.ts';
import { promisify } from 'node:util';

const run = promisify(execFile);
const cli = join(import.meta.dirname, '..', 'src', 'cli.ts');

/** Variables that mark a component as external; the stack CLI must not see the ones the test runner exported. */
const externalMarkers = ['DATABASE_URL', 'KAFKA_BROKERS', 'MONGODB_URL', 'OTLP_ENDPOINT', 'KUBECONFIG'];

async function stack(args: string[], env: Record<string, string> = {}) {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !externalMarkers.includes(key)));
  return run(process.execPath, [cli, ...args], { env: { ...inherited, ...env }, timeout: 300_000 });
}

test('up when already up is a no-op that starts nothing new', async () => {
  const before = JSON.parse((await stack(['status', '--json'])).stdout) as { components: Array<{ name: string; pids: number[] }> };
  const { stderr } = await stack(['up']);
  assert.doesNotMatch(stderr, /initdb|formatting|fetching|building/i);
  const afterUp = JSON.parse((await stack(['status', '--json'])).stdout) as typeof before;
  assert.deepEqual(afterUp.components.map((c) => [c.name, c.pids]), before.components.map((c) => [c.name, c.pids]));
});

test('status --json reports every component ready with its endpoint', async () => {
  const { stdout } = await stack(['status', '--json']);
  const { components } = JSON.parse(stdout) as { components: Array<{ name: string; state: string; endpoints: Record<string, string> }> };
  const names = components.map((c) => c.name);
  for (const expected of ['postgres', 'kafka', 'ferretdb', 'jaeger', 'k8s/upshift-a', 'k8s/upshift-b']) assert.ok(names.includes(expected), `${expected} listed`);
  for (const component of components) {
    assert.ok(['ready', 'external'].includes(component.state), `${component.name} is ${component.state}`);
    assert.ok(Object.values(component.endpoints).every((v) => v.length > 0), `${component.name} has endpoints`);
  }
});

test('a component whose port is taken fails with a message naming the port', async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const address = blocker.address();
  assert.ok(address && typeof address === 'object');
  // A second stack in its own run dir, shifted so that its PostgreSQL port lands on the taken one.
  const offset = address.port - ports.postgres;
  try {
    await assert.rejects(
      stack(['up', 'postgres'], { UPSHIFT_RUN_DIR: `/tmp/upshift-stack-porttest-${process.pid}`, UPSHIFT_PORT_OFFSET: String(offset) }),
      (error: { stderr?: string }) => new RegExp(`port ${address.port}\\b.*in use`).test(error.stderr ?? ''),
    );
  } finally {
    blocker.close();
  }
});
