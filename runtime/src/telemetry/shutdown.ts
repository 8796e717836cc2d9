/**
 * Flushing the tracing the preload started, without loading the SDK: the host calls this on every
 * shutdown, also in processes where tracing is off and the SDK was never imported.
 */

/** Flushes and stops the SDK started by the preload, if any (call on process shutdown). */
export async function shutdownTelemetry(): Promise<void> {
  const shutdown = (globalThis as { upshiftTelemetryShutdown?: () => Promise<void> }).upshiftTelemetryShutdown;
  await shutdown?.().catch(() => undefined);
}
