/**
 * The dashboard's image bundle (FUNCTION=dashboard): bundled into a temporary dist outside the repository
 * (so no node_modules of the repository can stand in for what it carries), started with the Dockerfile's
 * ENTRYPOINT and its Deployment's args, with only the env its Deployment gives a pod (a fresh control
 * store of the stack's PostgreSQL, the token Secret, the shared ConfigMap pointed at the stack's brokers).
 * It must serve the page, the page's scripts and the vendored libraries from inside the bundle, answer
 * its probe and /api/config, and exit 0 on SIGTERM.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createPool, migrateStore } from '@upshift/runtime';
import { freePort } from '@upshift/runtime/dev';
import { freshDatabase, stackEnv } from '../../runtime/test/support/stack.ts';
import { bundleDashboard } from '../src/dashboard-bundle.ts';
import { entrypoint } from './support/bundle-entrypoint.ts';
import { kustomize, ofKind, repoRoot } from './support/kubectl.ts';
import { podEnvironment } from './support/manifest-env.ts';

interface Container { args: string[]; ports: { name: string; containerPort: number }[]; readinessProbe: { httpGet: { path: string } } }

const token = 'bundle-test-token-0123456789';

/** The Deployment's args with its --port replaced by a free one (the manifest's own port may be taken here). */
function argsOnPort(container: Container, port: number): string[] {
  const args = [...container.args];
  const at = args.indexOf('--port');
  assert.ok(at >= 0, 'the Deployment names its port');
  assert.equal(Number(args[at + 1]), container.ports[0]?.containerPort, 'it listens on the port the Deployment exposes');
  args[at + 1] = String(port);
  return args;
}

function exitCode(child: ChildProcess, timeoutMs: number): Promise<number | string> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); resolve('did not exit in time'); }, timeoutMs);
    child.once('exit', (code, signal) => { clearTimeout(timer); resolve(code ?? signal ?? 'unknown'); });
  });
}

describe('the dashboard bundle, started like its container', { timeout: 180_000 }, () => {
  const env = stackEnv();
  const scratch = mkdtempSync(join(tmpdir(), 'upshift-bundle-dashboard-'));
  const cleanups: (() => Promise<void> | void)[] = [() => rmSync(scratch, { recursive: true, force: true })];
  let child: ChildProcess | undefined;
  let stderr = '';
  let url = '';
  let probePath = '';

  before(async () => {
    const database = await freshDatabase(env);
    cleanups.push(database.drop);
    const pool = createPool(database.url);
    await migrateStore(pool).finally(() => pool.end());
    const [bundleDir, dashboard] = await Promise.all([bundleDashboard(repoRoot, join(scratch, 'dist')), kustomize('knative/dashboard')]);
    const [deployment] = ofKind(dashboard, 'Deployment');
    assert.ok(deployment, 'knative/dashboard has a Deployment');
    const container = (deployment as unknown as { spec: { template: { spec: { containers: Container[] } } } }).spec.template.spec.containers[0];
    assert.ok(container);
    probePath = container.readinessProbe.httpGet.path;
    // The stack's Kafka is plaintext without auth: TLS off, no CA (no upshift-kafka-auth Secret).
    const secrets = { 'upshift-dashboard-store': { DATABASE_URL: database.url }, 'upshift-dashboard': { token } };
    // Only what `kubectl apply -k knative/dashboard` creates: its own ConfigMap (the base's has a hashed name it cannot see).
    const podEnv = { ...podEnvironment(dashboard, deployment, join(scratch, 'root'), secrets, { KAFKA_BROKERS: env['KAFKA_BROKERS'] ?? '' }), KAFKA_TLS: 'false', KAFKA_TLS_CA_FILE: '' };
    const port = await freePort();
    url = `http://127.0.0.1:${port}/`;
    const { command, args, path } = entrypoint();
    child = spawn(command, [...args, ...argsOnPort(container, port)], { cwd: bundleDir, env: { ...podEnv, PATH: path }, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-4000); });
    cleanups.push(() => { if (child && child.exitCode === null) child.kill('SIGKILL'); });
    const deadline = Date.now() + 60_000;
    while (!(await fetch(`${url}${probePath.slice(1)}`).then((r) => r.ok, () => false))) {
      if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}: ${stderr}`);
      if (Date.now() > deadline) throw new Error(`not ready within 60 s: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });
  after(async () => {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
  });

  test('answers the Deployment\'s probe path', async () => {
    assert.equal((await fetch(`${url}${probePath.slice(1)}`)).status, 200);
  });

  test('serves the page, its scripts and the vendored libraries from inside the bundle', async () => {
    const page = await fetch(url);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<script type="importmap">.*"\/vendor\/preact\.mjs"/s);
    const app = await fetch(`${url}static/app.js`);
    assert.equal(app.status, 200);
    assert.equal(await app.text(), readFileSync(join(repoRoot, 'dashboard/src/public/app.js'), 'utf8'));
    for (const [name, file] of [['preact.mjs', 'preact/dist/preact.mjs'], ['uplot.css', 'uplot/dist/uPlot.min.css']] as const) {
      const vendor = await fetch(`${url}vendor/${name}`);
      assert.equal(vendor.status, 200, name);
      assert.match(vendor.headers.get('content-type') ?? '', name.endsWith('.css') ? /^text\/css/ : /^text\/javascript/);
      assert.equal(await vendor.text(), readFileSync(join(repoRoot, 'node_modules', file), 'utf8'), `${name} is the installed library's file`);
    }
  });

  test('reads its settings from the pod env: the token Secret and the ConfigMap\'s brokers turn the controls on', async () => {
    const response = await fetch(`${url}api/config`);
    assert.equal(response.status, 200);
    const body = (await response.json()) as { controls: { enabled: boolean } };
    assert.equal(body.controls.enabled, true, JSON.stringify(body));
    const runs = await fetch(`${url}api/runs`);
    assert.equal(runs.status, 200, 'it reads the control store of DATABASE_URL');
    assert.deepEqual(await runs.json(), { runs: [] });
  });

  test('exits with code 0 on SIGTERM', async () => {
    assert.ok(child);
    child.kill('SIGTERM');
    assert.equal(await exitCode(child, 15_000), 0, stderr);
  });
});
