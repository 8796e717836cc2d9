/**
 * Tracing settings from the standard OpenTelemetry environment variables (the SDK specification's
 * "Environment Variable Specification"), read once by the preload:
 * - `OTEL_SDK_DISABLED=true`, or `OTEL_TRACES_EXPORTER` without `otlp` (e.g. `none`): tracing off.
 * - Where traces go: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (used as is), else `OTEL_EXPORTER_OTLP_ENDPOINT`
 *   or its older alias here `OTLP_ENDPOINT` (base URL + `/v1/traces`). With none set tracing stays off
 *   and loads nothing (the SDK would default to localhost:4318; a function pays ~0.5 s to start it).
 * - Service name: `OTEL_SERVICE_NAME`, else `UPSHIFT_FUNCTION`, else "upshift"; `OTEL_RESOURCE_ATTRIBUTES`
 *   adds resource attributes.
 * Sampling (`OTEL_TRACES_SAMPLER`/`_ARG`), `OTEL_BSP_*` and `OTEL_SPAN_*_LIMIT` are read by
 * tracer-settings.ts (SDK 3.x no longer reads them); the exporter reads
 * `OTEL_EXPORTER_OTLP_(TRACES_)HEADERS`/`TIMEOUT`/`COMPRESSION` itself.
 * Only the OTLP/HTTP protocol is exported (`OTEL_EXPORTER_OTLP_PROTOCOL=grpc` is refused by name).
 */

/** What the preload starts, or why tracing is off. */
export type TracingSettings =
  | { readonly enabled: true; readonly serviceName: string; readonly tracesUrl: string }
  | { readonly enabled: false; readonly why: string };

/** Reads the tracing settings from `env`; throws on a setting it cannot honour (so a typo is not silently untraced). */
export function tracingSettings(env: Readonly<Record<string, string | undefined>>): TracingSettings {
  if (env['OTEL_SDK_DISABLED']?.trim().toLowerCase() === 'true') return { enabled: false, why: 'OTEL_SDK_DISABLED=true' };
  const exporters = env['OTEL_TRACES_EXPORTER']?.split(',').map((name) => name.trim().toLowerCase()).filter(Boolean);
  if (exporters && exporters.length > 0 && !exporters.includes('otlp')) return { enabled: false, why: `OTEL_TRACES_EXPORTER=${exporters.join(',')}` };
  const protocol = env['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'] ?? env['OTEL_EXPORTER_OTLP_PROTOCOL'];
  if (protocol && !protocol.startsWith('http/')) throw new Error(`OTEL_EXPORTER_OTLP_PROTOCOL=${protocol}: only http/protobuf and http/json (OTLP over HTTP) are exported`);
  const tracesUrl = tracesUrlOf(env);
  if (!tracesUrl) return { enabled: false, why: 'no OTEL_EXPORTER_OTLP_ENDPOINT (or OTLP_ENDPOINT) set' };
  return { enabled: true, serviceName: env['OTEL_SERVICE_NAME'] || env['UPSHIFT_FUNCTION'] || 'upshift', tracesUrl };
}

function tracesUrlOf(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const signal = env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']?.trim();
  if (signal) return signal;
  const base = env['OTEL_EXPORTER_OTLP_ENDPOINT']?.trim() || env['OTLP_ENDPOINT']?.trim();
  return base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined;
}
