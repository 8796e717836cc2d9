/**
 * The online benchmark's phases: each phase's results pooled over its rounds, and the printed figures
 * (the writer alone, during the raw baselines, during each upshift variant, as ratios).
 */
import { describeBatches, newBatchRecord, type BatchRecord } from './online-batches.ts';
import type { Variant } from './online.ts';
import { describeWriter, pooledFigures, type WriterFigures } from './online-writer.ts';

const print = (line: string) => process.stdout.write(`${line}\n`);

/** One phase's results over its rounds. */
export interface PhaseRuns {
  ms: number;
  changed: number;
  retried: number;
  writers: WriterFigures[];
  states: Map<string, number>;
  batches: BatchRecord;
}

/** Adds one round of a phase. */
export function addRound(phases: Map<string, PhaseRuns>, name: string, round: { ms: number; writer: WriterFigures; changed?: number; retried?: number; states?: Map<string, number>; batches?: BatchRecord }): void {
  const phase = phases.get(name) ?? emptyPhase();
  phase.ms += round.ms;
  phase.changed += round.changed ?? 0;
  phase.retried += round.retried ?? 0;
  phase.writers.push(round.writer);
  for (const [state, count] of round.states ?? []) phase.states.set(state, (phase.states.get(state) ?? 0) + count);
  if (round.batches) {
    phase.batches.batches += round.batches.batches;
    phase.batches.rows += round.batches.rows;
    phase.batches.ms.push(...round.batches.ms);
  }
  phases.set(name, phase);
}

function emptyPhase(): PhaseRuns {
  return { ms: 0, changed: 0, retried: 0, writers: [], states: new Map<string, number>(), batches: newBatchRecord() };
}

/** Prints the pooled figures of one store's phases (`alone`, `raw`, `raw-backup` when there is one, then each variant by its key). */
export function printPhases(phases: Map<string, PhaseRuns>, variants: Array<{ key: string; variant: Variant }>, rawName: string, ceilingName?: string): void {
  const pooled = (name: string) => phases.get(name) ?? { ...emptyPhase(), ms: 1 };
  const baseline = (name: string) => ({ ms: pooled(name).ms, writer: pooledFigures(pooled(name).writers), rows: pooled(name).changed });
  const ceiling = ceilingName && phases.has('raw-backup') ? { ...baseline('raw-backup'), name: ceilingName } : undefined;
  printFigures(pooledFigures(pooled('alone').writers), baseline('raw'),
    variants.map(({ key, variant }) => ({ variant, ...pooled(key), writer: pooledFigures(pooled(key).writers) })), rawName, ceiling);
}

/** A baseline phase's pooled figures: how long it took, the writer's latencies, the rows it changed. */
interface BaselineFigures {
  ms: number;
  writer: WriterFigures;
  rows: number;
}

/**
 * Prints the figures of one store: the writer alone, during the raw baseline, during the ceiling (the
 * raw statement doing a batch's whole work, backup included) when there is one, during each variant.
 */
export function printFigures(alone: WriterFigures, raw: BaselineFigures, runs: Array<{ variant: Variant; ms: number; writer: WriterFigures; changed: number; retried: number; states: Map<string, number>; batches: BatchRecord }>, rawName: string, ceiling?: BaselineFigures & { name: string }): void {
  const rawRate = raw.rows / (raw.ms / 1000);
  const ceilingRate = ceiling ? ceiling.rows / (ceiling.ms / 1000) : 0;
  print(`  writer alone:                 ${describeWriter(alone)}`);
  print(`  during ${rawName}: ${describeWriter(raw.writer)}  = ${(raw.writer.p99 / alone.p99).toFixed(2)}× alone; ${Math.round(rawRate)} rows/s`);
  if (ceiling) {
    print(`  during ${ceiling.name}: ${describeWriter(ceiling.writer)}  = ${(ceiling.writer.p99 / alone.p99).toFixed(2)}× alone; ${Math.round(ceilingRate)} rows/s = ${(ceilingRate / rawRate).toFixed(2)}× ${rawName}'s (the most a backfill with backup gets from one core)`);
  }
  for (const run of runs) {
    const rate = run.changed / (run.ms / 1000);
    print(`  during ${run.variant.name}:`);
    print(`    writer ${describeWriter(run.writer)}`);
    print(`    writer p99 ÷ alone:          ${(run.writer.p99 / alone.p99).toFixed(2)}×   goal ≤ 1.5×`);
    print(`    rows/s ÷ ${rawName} rows/s: ${(rate / rawRate).toFixed(2)}×   goal ≥ 0.8×   (${Math.round(rate)} rows/s, ${run.changed} rows in ${(run.ms / 1000).toFixed(1)} s; ${run.retried} batches retried smaller after a serialization failure or lock timeout)`);
    if (ceiling && run.variant.backup) print(`    rows/s ÷ ${ceiling.name} rows/s: ${(rate / ceilingRate).toFixed(2)}×`);
    print(`    ${describeBatches(run.batches)}`);
    if (run.states.size > 0) print(`    throttle: ${[...run.states].map(([state, count]) => `${state} ×${count}`).join(', ')}`);
  }
}
