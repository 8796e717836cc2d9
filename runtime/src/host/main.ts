/**
 * Runs one function module as a process:
 *   node --import @upshift/runtime/telemetry/preload runtime/src/host/entry.ts <module.ts>
 * Config errors exit 78 naming the variable; SIGTERM/SIGINT drain the server, relay and pool, and
 * flush spans before exiting.
 */
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { isUpshiftError } from '../errors.ts';
import { shutdownTelemetry } from '../telemetry/shutdown.ts';
import type { FunctionModule } from './function.ts';
import { startHost } from './server.ts';
import { redactCredentials } from '../redact.ts';

/** Loads a function module file: its default export, or the module itself if it has `handle`. */
export async function loadFunctionModule(modulePath: string): Promise<FunctionModule> {
  const loaded = (await import(pathToFileURL(resolve(modulePath)).href)) as { default?: FunctionModule } & Partial<FunctionModule>;
  const fn = loaded.default ?? (loaded as FunctionModule);
  if (typeof fn.handle !== 'function' || typeof fn.init !== 'function') {
    throw new Error(`${modulePath} does not export a function module (export default defineFunction(...))`);
  }
  return fn;
}

/** Starts the module in this process and serves it until a termination signal. */
export async function runFunctionProcess(modulePath: string): Promise<void> {
  const fn = await loadFunctionModule(modulePath);
  try {
    await fn.init();
  } catch (err) {
    const message = redactCredentials(isUpshiftError(err) ? err.message : String(err));
    process.stderr.write(`${JSON.stringify({ level: 'fatal', function: fn.name, msg: `start-up failed: ${message}` })}\n`);
    await shutdownTelemetry();
    process.exit(isUpshiftError(err) && err.code === 'CONFIG_INVALID' ? 78 : 1);
  }
  const resources = fn.resources();
  const host = await startHost(fn, { port: resources?.config.PORT ?? 8080, host: process.env['HOST'] ?? '127.0.0.1' });
  // Milliseconds since the process started: what a cold start costs (module loading, init), printed once.
  resources?.log.info({ port: host.port, startupMs: Math.round(performance.now()) }, 'function listening');
  const stop = async (): Promise<void> => {
    await host.close();
    await fn.shutdown();
    await shutdownTelemetry();
    process.exit(0);
  };
  const stopOrExit = (): void => {
    stop().catch(() => process.exit(1));
  };
  process.once('SIGTERM', stopOrExit);
  process.once('SIGINT', stopOrExit);
}
