/**
 * The tracer options OpenTelemetry JS SDK 3.x no longer reads from the environment itself (its
 * TracerProvider and BatchSpanProcessor take them in code only; `@opentelemetry/sdk-node` still reads
 * them, but costs ~1 s of CPU to load), read here by the SDK specification's "Environment Variable
 * Specification" so a function is configured as before:
 * - sampler: `OTEL_TRACES_SAMPLER` (default `parentbased_always_on`), `OTEL_TRACES_SAMPLER_ARG` (ratio, default 1);
 * - span limits: `OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT`/`OTEL_ATTRIBUTE_COUNT_LIMIT`, `…_VALUE_LENGTH_LIMIT`,
 *   `OTEL_SPAN_EVENT_COUNT_LIMIT`, `OTEL_SPAN_LINK_COUNT_LIMIT`, `OTEL_EVENT_/LINK_ATTRIBUTE_COUNT_LIMIT`
 *   (or SDK 2.x's `OTEL_SPAN_ATTRIBUTE_PER_EVENT/LINK_COUNT_LIMIT`);
 * - batching: `OTEL_BSP_SCHEDULE_DELAY` (default here 500 ms, not 5 s: a run's spans show up in Jaeger
 *   while it runs), `OTEL_BSP_EXPORT_TIMEOUT`, `OTEL_BSP_MAX_QUEUE_SIZE`, `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`.
 * A value it cannot honour throws, naming the variable (the SDK would log and fall back to a default,
 * e.g. sample everything after a typo in `always_off`). Pure: sdk.ts turns these into SDK objects.
 */

type Env = Readonly<Record<string, string | undefined>>;

const fixedSamplers = ['always_on', 'always_off', 'parentbased_always_on', 'parentbased_always_off'] as const;
const ratioSamplers = ['traceidratio', 'parentbased_traceidratio'] as const;

/** The sampler `OTEL_TRACES_SAMPLER` names; the ratio ones carry `OTEL_TRACES_SAMPLER_ARG`. */
export type SamplerSetting =
  | { readonly name: (typeof fixedSamplers)[number] }
  | { readonly name: (typeof ratioSamplers)[number]; readonly ratio: number };

/** Span limits from the environment (the SDK's SpanLimits; an unset one keeps the SDK default). */
export type SpanLimitSettings = Readonly<Partial<Record<keyof typeof spanLimitVariables, number>>>;

/** BatchSpanProcessor options from the environment (unset ones keep the SDK defaults). */
export type BatchSettings = Readonly<Partial<Record<keyof typeof batchVariables, number>>> & { readonly scheduledDelayMillis: number };

/** Everything the tracer provider is built from besides the exporter and the resource. */
export interface TracerSettings {
  readonly sampler: SamplerSetting;
  readonly spanLimits: SpanLimitSettings;
  readonly batching: BatchSettings;
}

/** SpanLimits field → its variables, the more specific first. */
const spanLimitVariables = {
  attributeCountLimit: ['OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT', 'OTEL_ATTRIBUTE_COUNT_LIMIT'],
  attributeValueLengthLimit: ['OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT', 'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT'],
  eventCountLimit: ['OTEL_SPAN_EVENT_COUNT_LIMIT'],
  linkCountLimit: ['OTEL_SPAN_LINK_COUNT_LIMIT'],
  // The specification's names, then the ones SDK 2.x read.
  attributePerEventCountLimit: ['OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT', 'OTEL_SPAN_ATTRIBUTE_PER_EVENT_COUNT_LIMIT'],
  attributePerLinkCountLimit: ['OTEL_LINK_ATTRIBUTE_COUNT_LIMIT', 'OTEL_SPAN_ATTRIBUTE_PER_LINK_COUNT_LIMIT'],
} as const;

/** BatchSpanProcessor option → its variable. */
const batchVariables = {
  scheduledDelayMillis: ['OTEL_BSP_SCHEDULE_DELAY'],
  exportTimeoutMillis: ['OTEL_BSP_EXPORT_TIMEOUT'],
  maxQueueSize: ['OTEL_BSP_MAX_QUEUE_SIZE'],
  maxExportBatchSize: ['OTEL_BSP_MAX_EXPORT_BATCH_SIZE'],
} as const;

/** How long spans wait to be batched when `OTEL_BSP_SCHEDULE_DELAY` is not set. */
export const DEFAULT_SCHEDULE_DELAY_MS = 500;

/** Reads the sampler, span limits and batching from `env`; throws on a value it cannot honour. */
export function tracerSettings(env: Env): TracerSettings {
  return {
    sampler: samplerOf(env),
    spanLimits: integersOf(env, spanLimitVariables),
    batching: { scheduledDelayMillis: DEFAULT_SCHEDULE_DELAY_MS, ...integersOf(env, batchVariables) },
  };
}

function samplerOf(env: Env): SamplerSetting {
  const name = env['OTEL_TRACES_SAMPLER']?.trim().toLowerCase() || 'parentbased_always_on';
  const fixed = fixedSamplers.find((known) => known === name);
  if (fixed) return { name: fixed };
  const ratioed = ratioSamplers.find((known) => known === name);
  if (ratioed) return { name: ratioed, ratio: ratioOf(env['OTEL_TRACES_SAMPLER_ARG']) };
  throw new Error(`OTEL_TRACES_SAMPLER=${name}: not one of ${[...fixedSamplers, ...ratioSamplers].join(', ')}`);
}

function ratioOf(arg: string | undefined): number {
  const text = arg?.trim();
  if (!text) return 1;
  const ratio = Number(text);
  if (!(ratio >= 0 && ratio <= 1)) throw new Error(`OTEL_TRACES_SAMPLER_ARG=${text}: a sampling ratio is a number from 0 to 1`);
  return ratio;
}

/** For each field, the first of its variables that is set, as a non-negative integer. */
function integersOf<K extends string>(env: Env, variables: Readonly<Record<K, readonly string[]>>): Partial<Record<K, number>> {
  const values: Partial<Record<K, number>> = {};
  for (const [field, names] of Object.entries(variables) as [K, readonly string[]][]) {
    const name = names.find((candidate) => env[candidate]?.trim());
    if (!name) continue;
    const text = env[name]?.trim() ?? '';
    if (!/^\d+$/.test(text)) throw new Error(`${name}=${text}: expected a non-negative integer`);
    values[field] = Number(text);
  }
  return values;
}
