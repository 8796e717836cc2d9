/**
 * What the online benchmark puts around an engine's batches: a record of the batches each variant ran
 * (how big, how long), and the batch-size controller before the fitted one (issue 20), kept for the
 * `proportional` variant so both are measured in the same run: it assumed batch time ∝ batch size and
 * stepped from the last batch alone (damped 70 % in log space, short fast pages ignored).
 */
import type { BatchRequest, BatchResult, BatchSizeLimits, MigrationEngine } from '@upshift/migrations';

/** `engine` with `runBatch` replaced (every other call goes straight through). */
function withRunBatch(engine: MigrationEngine, runBatch: (request: BatchRequest) => Promise<BatchResult>): MigrationEngine {
  return new Proxy(engine, {
    get: (target, property) => {
      if (property === 'runBatch') return runBatch;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** The batches one phase ran. */
export interface BatchRecord {
  batches: number;
  rows: number;
  ms: number[];
}

/** An empty record. */
export function newBatchRecord(): BatchRecord {
  return { batches: 0, rows: 0, ms: [] };
}

/** `engine` with every batch's rows and time added to `record`. */
export function recordingBatches(engine: MigrationEngine, record: BatchRecord): MigrationEngine {
  return withRunBatch(engine, async (request) => {
    const result = await engine.runBatch(request);
    record.batches += 1;
    record.rows += result.scanned;
    record.ms.push(result.durationMs);
    return result;
  });
}

/** The record in words: batches, mean rows per batch, batch time p50/p99. */
export function describeBatches(record: BatchRecord): string {
  const sorted = [...record.ms].sort((a, b) => a - b);
  const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0);
  return `${record.batches} batches, ${Math.round(record.rows / Math.max(1, record.batches))} rows/batch, batch ms p50 ${at(0.5)} p99 ${at(0.99)}`;
}

/** `engine` with every batch sized by the proportional controller, starting at `initialSize`, whatever the shard loop asks for. */
export function proportionalSizing(engine: MigrationEngine, limits: BatchSizeLimits, initialSize: number): MigrationEngine {
  let size = initialSize;
  return withRunBatch(engine, async (request) => {
    const asked = size;
    const result = await engine.runBatch({ ...request, batchSize: asked });
    size = proportionalNext(asked, result, limits);
    return result;
  });
}

function proportionalNext(asked: number, last: BatchResult, limits: BatchSizeLimits): number {
  const clamp = (size: number) => Math.min(limits.max, Math.max(limits.min, Math.round(size)));
  if (last.scanned < asked && last.durationMs < limits.targetMs) return clamp(asked);
  const factor = Math.min(limits.maxGrowth, Math.max(limits.maxShrink, limits.targetMs / Math.max(1, last.durationMs)));
  return clamp(asked * Math.exp(Math.log(factor) * 0.7));
}
