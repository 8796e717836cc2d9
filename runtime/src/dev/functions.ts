/**
 * Starting function modules for `upshift dev`: as child processes (the default: own OTel service name,
 * crash isolation, like a pod) or inline in this process (benchmarks, fast tests).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { FunctionName } from '@upshift/events';
import { loadFunctionModule } from '../host/main.ts';
import { startHost } from '../host/server.ts';
import { redactCredentials } from '../redact.ts';

/** One function to run locally. */
export interface DevFunctionSpec {
  /** Catalogue name: decides its routes and consumer group. */
  readonly name: FunctionName;
  /** Path of the module file (`export default defineFunction(...)`). */
  readonly module: string;
  /** Port to listen on; 0 picks a free one. */
  readonly port?: number;
  readonly mode?: 'process' | 'inline';
  /** Extra environment for this function only. */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Requests the dispatcher sends it at once (the rest wait); default its `devConcurrency`
   * (`functionLimits`). runDev tells the function through UPSHIFT_CONTAINER_CONCURRENCY.
   */
  readonly concurrency?: number;
  /** Process mode: start it again when it exits unexpectedly (like a pod). runDev defaults it on. */
  readonly restart?: boolean;
}

/** A started function. */
export interface StartedFunction {
  readonly name: FunctionName;
  readonly url: string;
  readonly child: ChildProcess | undefined;
  stop(): Promise<void>;
}

const mainPath = fileURLToPath(new URL('../host/entry.ts', import.meta.url));
const preloadPath = fileURLToPath(new URL('../telemetry/preload.ts', import.meta.url));

/** A free loopback port. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts `spec` and resolves when its readiness probe passes. */
export async function startFunction(spec: DevFunctionSpec, env: NodeJS.ProcessEnv, quiet: boolean): Promise<StartedFunction> {
  const port = spec.port || (await freePort());
  const fullEnv = { ...env, ...spec.env, PORT: String(port), UPSHIFT_FUNCTION: spec.name, OTEL_SERVICE_NAME: spec.name };
  if (spec.mode === 'inline') {
    const fn = await loadFunctionModule(spec.module);
    await fn.init({ env: fullEnv });
    const host = await startHost(fn, { port });
    return { name: spec.name, url: host.url, child: undefined, stop: async () => { await host.close(); await fn.shutdown(); } };
  }
  const url = `http://127.0.0.1:${port}/`;
  const launch = async (): Promise<ChildProcess> => {
    const child = spawn(process.execPath, ['--import', preloadPath, mainPath, spec.module], {
      env: fullEnv,
      stdio: ['ignore', quiet ? 'ignore' : 'inherit', 'pipe'],
    });
    await waitReady(child, url, spec.name, quiet);
    return child;
  };
  return supervise(spec, url, await launch(), launch);
}

/**
 * Keeps a child running like a pod's restart policy when `spec.restart` is set: an unexpected exit
 * is followed by a new process on the same port after a second.
 */
function supervise(spec: DevFunctionSpec, url: string, first: ChildProcess, launch: () => Promise<ChildProcess>): StartedFunction {
  let current = first;
  let stopping = false;
  const watch = (child: ChildProcess): void => {
    child.once('exit', (code, signal) => {
      if (stopping || !spec.restart) return;
      process.stderr.write(`upshift dev: ${spec.name} exited (${signal ?? code}); restarting\n`);
      setTimeout(() => {
        if (stopping) return;
        launch().then((next) => { current = next; watch(next); }, (err: unknown) => {
          process.stderr.write(`upshift dev: ${spec.name} did not restart: ${redactCredentials(String(err))}\n`);
        });
      }, 1000);
    });
  };
  watch(first);
  return {
    name: spec.name,
    url,
    get child() { return current; },
    stop: async () => { stopping = true; await stopChild(current); },
  };
}

async function waitReady(child: ChildProcess, url: string, name: string, quiet: boolean): Promise<void> {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
    if (!quiet) process.stderr.write(chunk);
  });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`function ${name} exited with ${child.exitCode}: ${stderr.trim()}`);
    const ready = await fetch(`${url}health/readiness`).then((r) => r.ok, () => false);
    if (ready) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`function ${name} was not ready within 60 s: ${stderr.trim()}`);
}

/** SIGTERM, then SIGKILL after 5 s; resolves when the child is gone. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
