import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { examplePolicy, upshift, writePolicy } from '../support/run.ts';

test('upshift --help lists every command with one line each', async () => {
  const { code, stdout } = await upshift(['--help']);
  assert.equal(code, 0);
  for (const name of ['request', 'watch', 'status', 'dev', 'catalog', 'demo']) assert.match(stdout, new RegExp(`^  ${name} +\\S`, 'm'));
});

test('an unknown command is a usage error (exit 2)', async () => {
  const { code, stderr } = await upshift(['upgrade']);
  assert.equal(code, 2);
  assert.match(stderr, /unknown command "upgrade"/);
});

test('request with an invalid policy exits 2 and prints every error with its field path', async () => {
  const bad = readFileSync(examplePolicy, 'utf8')
    .replace('namespace: shop', 'namespace: ../x')
    .replace('shards: 8', 'shards: 0')
    .replace('dependsOn: [customers]', 'dependsOn: [storefront]');
  const { code, stderr, stdout } = await upshift(['request', writePolicy(bad), '--brokers', '127.0.0.1:1']);
  assert.equal(code, 2);
  assert.equal(stdout, '');
  assert.match(stderr, /spec\.services\[0\]\.namespace: must be a DNS-1123 label/);
  assert.match(stderr, /spec\.migrations\[0\]\.shards: must be at least 1/);
  assert.match(stderr, /spec\.services\[1\]\.dependsOn: dependency cycle: orders -> storefront -> orders/);
});

test('request without a file, with a missing file or without brokers is a usage error', async () => {
  const env = { ...process.env, KAFKA_BROKERS: '' };
  assert.equal((await upshift(['request'], env)).code, 2);
  const missing = await upshift(['request', '/nonexistent/policy.yaml'], env);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /cannot read \/nonexistent\/policy\.yaml: ENOENT/);
  const noBrokers = await upshift(['request', examplePolicy], env);
  assert.equal(noBrokers.code, 2);
  assert.match(noBrokers.stderr, /KAFKA_BROKERS/);
});

test('request when Kafka is unreachable exits 1 with the cause', async () => {
  const { code, stderr } = await upshift(['request', examplePolicy, '--brokers', '127.0.0.1:1']);
  assert.equal(code, 1);
  assert.match(stderr, /ECONNREFUSED/);
});

test('request rejects a bad --run-id or --timeout before touching Kafka (exit 2)', async () => {
  const badRun = await upshift(['request', examplePolicy, '--brokers', '127.0.0.1:1', '--run-id', 'Run_1']);
  assert.equal(badRun.code, 2);
  assert.match(badRun.stderr, /--run-id: must be a run id/);
  const badTimeout = await upshift(['request', examplePolicy, '--brokers', '127.0.0.1:1', '--wait', '--timeout', 'soon']);
  assert.equal(badTimeout.code, 2);
  assert.match(badTimeout.stderr, /--timeout must be a positive number/);
});

test('a topic prefix the functions would refuse is a usage error (exit 2), from the flag or UPSHIFT_TOPIC_PREFIX', async () => {
  const flag = await upshift(['request', examplePolicy, '--brokers', '127.0.0.1:1', '--topic-prefix', 'a/b']);
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /--topic-prefix: "a\/b": only letters, digits/);
  const fromEnv = await upshift(['watch', 'run-1', '--brokers', '127.0.0.1:1'], { ...process.env, UPSHIFT_TOPIC_PREFIX: 'a b' });
  assert.equal(fromEnv.code, 2);
  assert.match(fromEnv.stderr, /UPSHIFT_TOPIC_PREFIX: "a b"/);
});

test('dev: --help names --port-base and --topic-prefix; a bad --port-base is a usage error before anything starts', async () => {
  const help = await upshift(['dev', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--port-base +port of the first function/);
  assert.match(help.stdout, /--topic-prefix/);
  for (const bad of ['http', '-1', '65534', '80.5']) {
    const outcome = await upshift(['dev', `--port-base=${bad}`]);
    assert.equal(outcome.code, 2, bad);
    assert.match(outcome.stderr, /--port-base must be a port number/);
  }
});
