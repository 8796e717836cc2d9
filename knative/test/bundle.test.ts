/**
 * The production bundles the Dockerfile copies: each function that has a src/index.ts is bundled into a
 * temporary dist, started with plain Node 24 and the Dockerfile's ENTRYPOINT (the bundle's start.sh),
 * with only the env and files its Knative Service manifest gives a pod (pointed at the stack: a fresh
 * database, a topic prefix, the stack's brokers). It must answer readiness, handle one real event that
 * arrives through Kafka (the dev dispatcher stands in for the KafkaSource), and exit 0 on SIGTERM.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DEAD_LETTER_TOPIC, LIFECYCLE_TOPIC } from '@upshift/events';
import type { FunctionName } from '@upshift/events';
import { createKafka, createLogger } from '@upshift/runtime';
import { Dispatcher, freePort } from '@upshift/runtime/dev';
import pg from 'pg';
import { brokersOf, collect, freshDatabase, freshTopics, stackEnv } from '../../runtime/test/support/stack.ts';
import { publishEvents } from '../../runtime/test/support/publish.ts';
import { bundleFunction, functionModule } from '../src/bundle.ts';
import { deploymentOf, functionNames } from '../src/spec.ts';
import { entrypoint } from './support/bundle-entrypoint.ts';
import { kustomize, repoRoot } from './support/kubectl.ts';
import type { KubeObject } from './support/kubectl.ts';
import { podEnvironment } from './support/manifest-env.ts';
import type { Secrets } from './support/manifest-env.ts';
import { scenarioFor } from './support/scenarios.ts';

const present = functionNames.filter((fn) => existsSync(join(repoRoot, functionModule(fn))));
const absent = functionNames.filter((fn) => !present.includes(fn));
async function waitReady(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}: ${stderr()}`);
    if (await fetch(`${url}health/readiness`).then((r) => r.ok, () => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`not ready within 60 s: ${stderr()}`);
}

async function inboxed(databaseUrl: string, fn: FunctionName, id: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM upshift.inbox WHERE consumer = $1 AND id = $2', [fn, id]);
    return rowCount === 1;
  } catch {
    return false;
  } finally {
    await client.end();
  }
}

function exitCode(child: ChildProcess, timeoutMs: number): Promise<number | string> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); resolve('did not exit in time'); }, timeoutMs);
    child.once('exit', (code, signal) => { clearTimeout(timer); resolve(code ?? signal ?? 'unknown'); });
  });
}

interface JaegerSpan { operationName: string; tags: { key: string; value: unknown }[] }

const tagOf = (span: JaegerSpan, key: string): unknown => span.tags.find((t) => t.key === key)?.value;
const isPgSpan = (span: JaegerSpan): boolean => tagOf(span, 'db.system') === 'postgresql' || tagOf(span, 'db.system.name') === 'postgresql';
const isKafkaSpan = (span: JaegerSpan): boolean => tagOf(span, 'messaging.system') === 'kafka';

/** The spans Jaeger holds for `service`, polled until `enough` or 30 s. */
async function tracedSpans(queryUrl: string, service: string, enough: (spans: JaegerSpan[]) => boolean): Promise<JaegerSpan[]> {
  assert.ok(queryUrl, 'JAEGER_QUERY_URL is not set (start the stack)');
  const deadline = Date.now() + 30_000;
  let spans: JaegerSpan[] = [];
  while (Date.now() < deadline) {
    const response = await fetch(`${queryUrl}/api/traces?service=${encodeURIComponent(service)}&limit=100&lookback=1h`).catch(() => undefined);
    const body = response?.ok ? ((await response.json()) as { data?: { spans: JaegerSpan[] }[] }) : {};
    spans = (body.data ?? []).flatMap((trace) => trace.spans);
    if (enough(spans)) return spans;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return spans;
}

test(`bundles exist for at least plan and rollout (bundled: ${present.join(', ')}; no src/index.ts yet: ${absent.join(', ') || 'none'})`, () => {
  assert.ok(present.includes('plan') && present.includes('rollout'), `plan and rollout must be covered; found ${present.join(', ')}`);
});

for (const fn of present) {
  describe(`the ${fn} bundle, started like its container`, { timeout: 240_000 }, () => {
    const env = stackEnv();
    const scratch = mkdtempSync(join(tmpdir(), `upshift-bundle-${fn}-`));
    const scenario = scenarioFor(fn);
    const cleanups: (() => Promise<void> | void)[] = [() => rmSync(scratch, { recursive: true, force: true })];
    let child: ChildProcess | undefined;
    let stderr = '';
    let databaseUrl = '';
    let url = '';
    let prefix = '';
    const serviceName = `bundle-${fn}-${Date.now().toString(36)}`;

    before(async () => {
      const database = await freshDatabase(env);
      cleanups.push(database.drop);
      const topics = await freshTopics(env);
      cleanups.push(topics.remove);
      const [bundleDir, built] = await Promise.all([bundleFunction(repoRoot, fn, join(scratch, 'dist')), kustomize('knative/base')]);
      databaseUrl = database.url;
      prefix = topics.prefix;
      const ksvc = built.find((o: KubeObject) => o.kind === 'Service' && o.metadata.name === deploymentOf(fn).resourceName);
      assert.ok(ksvc, `no Knative Service for ${fn}`);
      const secrets: Secrets = { 'upshift-control-store': { DATABASE_URL: database.url }, 'upshift-store-connections': {}, [`upshift-clusters-${fn}`]: {} };
      // The ConfigMap as an overlay sets it: the stack's brokers, and tracing on (the stack's Jaeger).
      const config = { KAFKA_BROKERS: env['KAFKA_BROKERS'] ?? '', OTLP_ENDPOINT: env['OTLP_ENDPOINT'] ?? '' };
      // A service name of this run only, so the Jaeger query below finds just these spans. The stack's Kafka
      // is plaintext without auth: TLS off and no CA (the SASL variables are unset: no upshift-kafka-auth Secret).
      const podEnv = { ...podEnvironment(built, ksvc, join(scratch, 'root'), secrets, config), OTEL_SERVICE_NAME: serviceName, KAFKA_TLS: 'false', KAFKA_TLS_CA_FILE: '' };
      const port = await freePort();
      url = `http://127.0.0.1:${port}/`;
      const { command, args, path } = entrypoint();
      child = spawn(command, args, { cwd: bundleDir, env: { ...podEnv, PATH: path, PORT: String(port), UPSHIFT_TOPIC_PREFIX: topics.prefix }, stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr?.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-4000); });
      cleanups.push(() => { if (child && child.exitCode === null) child.kill('SIGKILL'); });
      await waitReady(url, child, () => stderr);
      await scenario.seed?.(database.url);
      const dispatcher = new Dispatcher({ kafka: createKafka(brokersOf(env), `bundle-test-${fn}`), targets: [{ functionName: fn, url }], log: createLogger('bundle-test', 'silent'), topicPrefix: topics.prefix, retry: { retries: 2, backoffDelayMs: 100 } });
      await dispatcher.start();
      cleanups.push(() => dispatcher.stop());
    });
    after(async () => {
      for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
    });

    test('answers readiness and liveness on the manifest\'s probe paths', async () => {
      assert.equal((await fetch(`${url}health/readiness`)).status, 200);
      assert.equal((await fetch(`${url}health/liveness`)).status, 200);
    });

    test(`handles a real event from Kafka: ${scenario.title}`, async () => {
      const lifecycle = await collect(env, `${prefix}${LIFECYCLE_TOPIC}`);
      const deadLetters = await collect(env, `${prefix}${DEAD_LETTER_TOPIC}`);
      cleanups.push(() => lifecycle.stop(), () => deadLetters.stop());
      await publishEvents(env, prefix, [scenario.event]);
      const deadline = Date.now() + 60_000;
      let handled = false;
      while (!handled && Date.now() < deadline) {
        const deadLetterIds = deadLetters.messages.map((m) => m.headers?.['ce_id']?.toString() ?? '');
        handled = scenario.done({ lifecycle: lifecycle.events(), deadLetterIds, inboxed: await inboxed(databaseUrl, fn, scenario.event.id) });
        if (!handled) await new Promise((resolve) => setTimeout(resolve, 250));
      }
      assert.ok(handled, `no sign of handling within 60 s; lifecycle: ${lifecycle.events().map((e) => e.type).join(', ')}; stderr: ${stderr}`);
      if (scenario.inboxed) assert.equal(await inboxed(databaseUrl, fn, scenario.event.id), true, 'the event is in the inbox');
    });

    test('exits with code 0 on SIGTERM', async () => {
      assert.ok(child);
      child.kill('SIGTERM');
      assert.equal(await exitCode(child, 15_000), 0, stderr);
    });

    test('its spans reach Jaeger, with pg and kafkajs instrumented through the bundle', async () => {
      const spans = await tracedSpans(env['JAEGER_QUERY_URL'] ?? '', serviceName, (found) => found.some(isPgSpan) && found.some(isKafkaSpan));
      assert.ok(spans.some(isPgSpan), `no pg span among ${spans.map((s) => s.operationName).join(', ')}`);
      assert.ok(spans.some(isKafkaSpan), `no kafkajs span among ${spans.map((s) => s.operationName).join(', ')}`);
    });
  });
}
