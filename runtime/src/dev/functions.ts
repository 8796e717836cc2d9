/**
 * Starting function modules for `upshift dev`: as child processes (the default: own OTel service name,
 * crash isolation, like a pod) or inline in this process (benchmarks, fast tests).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  /**
   * Processes of this function (`--scale`): each one like a pod, taking `concurrency` requests (default
   * the manifests' `containerConcurrency`), the dispatcher spreading deliveries over them. Unset: one
   * process standing in for the whole Service (`devConcurrency`).
   */
  readonly instances?: number;
}

/** A started function. */
export interface StartedFunction {
  readonly name: FunctionName;
  /** Which of the function's instances (0-based; told to the process as UPSHIFT_INSTANCE `<name>-<n>`). */
  readonly instance: number;
  readonly url: string;
  readonly child: ChildProcess | undefined;
  /** False from an unexpected exit until its replacement is ready: the dispatcher sends it nothing meanwhile. */
  readonly ready: boolean;
  stop(): Promise<void>;
}

const mainPath = fileURLToPath(new URL('../host/entry.ts', import.meta.url));

/**
 * Where function processes keep Node's compile cache (compiled and type-stripped modules, keyed by their
 * content) unless NODE_COMPILE_CACHE says otherwise: a process started again, or a second instance, skips
 * the compiling (about a third of a start's CPU here), which counts when `--scale` starts dozens.
 */
const compileCache = join(tmpdir(), 'upshift-node-compile-cache');
const preloadPath = fileURLToPath(new URL('../telemetry/preload.ts', import.meta.url));

/** A free loopback port. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts instance `instance` of `spec` (the first on `spec.port`, others on free ports) and resolves when its readiness probe passes. */
export async function startFunction(spec: DevFunctionSpec, env: NodeJS.ProcessEnv, quiet: boolean, instance = 0): Promise<StartedFunction> {
  const port = (instance === 0 && spec.port) || (await freePort());
  const fullEnv = { NODE_COMPILE_CACHE: compileCache, ...env, ...spec.env, PORT: String(port), UPSHIFT_FUNCTION: spec.name, UPSHIFT_INSTANCE: `${spec.name}-${instance}`, OTEL_SERVICE_NAME: spec.name };
  if (spec.mode === 'inline') {
    const fn = await loadFunctionModule(spec.module);
    await fn.init({ env: fullEnv });
    const host = await startHost(fn, { port });
    return { name: spec.name, instance, url: host.url, child: undefined, ready: true, stop: async () => { await host.close(); await fn.shutdown(); } };
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
  return supervise(spec, instance, url, await launch(), launch);
}

/**
 * Keeps a child running like a pod's restart policy when `spec.restart` is set: an unexpected exit
 * is followed by a new process on the same port after a second.
 */
function supervise(spec: DevFunctionSpec, instance: number, url: string, first: ChildProcess, launch: () => Promise<ChildProcess>): StartedFunction {
  let current = first;
  let stopping = false;
  let ready = true;
  const label = spec.instances === undefined ? spec.name : `${spec.name}-${instance}`;
  const watch = (child: ChildProcess): void => {
    child.once('exit', (code, signal) => {
      ready = false;
      if (stopping || !spec.restart) return;
      process.stderr.write(`upshift dev: ${label} exited (${signal ?? code}); restarting\n`);
      setTimeout(() => {
        if (stopping) return;
        launch().then((next) => { current = next; ready = true; watch(next); }, (err: unknown) => {
          process.stderr.write(`upshift dev: ${label} did not restart: ${redactCredentials(String(err))}\n`);
        });
      }, 1000);
    });
  };
  watch(first);
  return {
    name: spec.name,
    instance,
    url,
    get child() { return current; },
    get ready() { return ready && current.exitCode === null && current.signalCode === null; },
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
