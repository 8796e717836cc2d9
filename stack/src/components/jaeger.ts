import { copyFileSync, chmodSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Component, ComponentStatus } from '../component.ts';
import { cacheDirFor, runDirFor } from '../paths.ts';
import { assertPortsFree, daemonStatus, logFile, runningPid, startDaemon, stopDaemon, waitUntil } from '../process.ts';
import { run } from '../run.ts';
import { ports, versions } from '../versions.ts';
import { goEnv, goModDownload } from '../go.ts';

const name = 'jaeger';
const modulePath = 'github.com/jaegertracing/jaeger';
const cacheDir = cacheDirFor(name, versions.jaeger);
const binary = join(cacheDir, 'bin', 'jaeger');
const runDir = runDirFor(name);
const configFile = join(runDir, 'config.yaml');
/** The query service's gRPC API (unused by upshift, but always served): next to the HTTP query port. */
const queryGrpcPort = ports.jaegerQuery - 1;
const otlpHttpUrl = `http://127.0.0.1:${ports.jaegerOtlpHttp}`;
const queryUrl = `http://127.0.0.1:${ports.jaegerQuery}`;
const healthUrl = `http://127.0.0.1:${ports.jaegerHealth}/status`;

/**
 * Jaeger v2 module tags are v1.x Go versions (the module path has no /v2): v1.76.0 is Jaeger v2.13.0.
 * Later v2 releases have no Go version the module proxy can serve.
 */
const releaseOf: Record<string, string> = { 'v1.76.0': 'v2.13.0' };
const release = releaseOf[versions.jaeger] ?? versions.jaeger;

/** Jaeger v2 (an OpenTelemetry Collector distribution): OTLP in, in-memory trace storage, query HTTP API. */
export const jaeger: Component = {
  name,
  version: versions.jaeger,
  externalEnv: 'OTLP_ENDPOINT',

  async install() {
    if (existsSync(binary)) return;
    await buildJaeger();
  },

  async start() {
    if (runningPid(runDir, name)) return;
    await assertPortsFree(name, [ports.jaegerOtlpGrpc, ports.jaegerOtlpHttp, ports.jaegerQuery, queryGrpcPort, ports.jaegerHealth]);
    mkdirSync(runDir, { recursive: true });
    writeFileSync(configFile, jaegerConfig());
    startDaemon({ name, runDir, command: binary, args: ['--config', configFile] });
    await waitUntil(name, isHealthy, { timeoutMs: 60_000, log: logFile(runDir, name), daemon: { runDir, name } });
  },

  async stop() {
    await stopDaemon(runDir, name);
  },

  async status(): Promise<ComponentStatus[]> {
    const endpoints = { otlpHttp: otlpHttpUrl, otlpGrpc: `127.0.0.1:${ports.jaegerOtlpGrpc}`, query: queryUrl, health: healthUrl };
    return [await daemonStatus({ name, version: versions.jaeger, runDir, endpoints, probe: isHealthy, details: { release, storage: 'memory', config: configFile } })];
  },

  env() {
    return { OTLP_ENDPOINT: otlpHttpUrl, JAEGER_QUERY_URL: queryUrl };
  },
};

/**
 * Builds cmd/jaeger in a wrapper module. The wrapper repeats Jaeger's own sarama replace directive
 * (replaces only apply in the main module) and starts from Jaeger's go.sum: the checksum database is
 * not reachable for many of its dependencies here, and Jaeger's go.sum pins exactly the versions it selects.
 */
async function buildJaeger(): Promise<void> {
  const srcDir = join(cacheDir, 'src');
  const logTo = join(cacheDir, 'build.log');
  const step = (what: string, args: string[]) => run('go', args, { cwd: srcDir, env: goEnv, logTo, what: `jaeger: ${what}` });
  rmSync(srcDir, { recursive: true, force: true });
  mkdirSync(srcDir, { recursive: true });
  await step('creating the wrapper module', ['mod', 'init', 'upshift.local/jaeger-build']);
  await step('pinning the module', [
    'mod', 'edit',
    `-require=${modulePath}@${versions.jaeger}`,
    '-replace=github.com/Shopify/sarama=github.com/Shopify/sarama@v1.33.0',
  ]);
  const jaegerModule = await goModDownload(modulePath, versions.jaeger, srcDir);
  copyFileSync(join(jaegerModule.Dir, 'go.sum'), join(srcDir, 'go.sum'));
  chmodSync(join(srcDir, 'go.sum'), 0o644);
  await step(`fetching ${modulePath} ${versions.jaeger} and its dependencies`, ['get', `${modulePath}/cmd/jaeger@${versions.jaeger}`]);
  const ldflags = `-s -w -X ${modulePath}/internal/version.latestVersion=${release}`;
  // Build next to the target and rename, so an interrupted build never leaves a half-written binary.
  await step(`building jaeger ${release} (${versions.jaeger})`, [
    'build', '-trimpath', `-ldflags=${ldflags}`, '-o', `${binary}.tmp`, `${modulePath}/cmd/jaeger`,
  ]);
  renameSync(`${binary}.tmp`, binary);
}

async function isHealthy(): Promise<boolean> {
  try {
    const response = await fetch(healthUrl, { signal: AbortSignal.timeout(2000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

/** The all-in-one configuration trimmed to OTLP, memory storage, the query API and the health check, on loopback. */
function jaegerConfig(): string {
  return `# Written by stack/src/components/jaeger.ts at every start; edit that file, not this one.
service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    resource:
      service.name: jaeger
    metrics:
      level: none
    logs:
      level: info

extensions:
  healthcheckv2:
    use_v2: true
    http:
      endpoint: 127.0.0.1:${ports.jaegerHealth}
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: 127.0.0.1:${ports.jaegerQuery}
    grpc:
      endpoint: 127.0.0.1:${queryGrpcPort}
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 100000

receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:${ports.jaegerOtlpGrpc}
      http:
        endpoint: 127.0.0.1:${ports.jaegerOtlpHttp}

processors:
  batch:

exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`;
}
