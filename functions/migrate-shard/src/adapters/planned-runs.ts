/**
 * What every shard of a run reads of it and that never changes once the run is planned: the catalog
 * checksums its plan pinned and its policy's store-throttle limits. Kept per process for the runs it
 * works on (the most recent `maxRuns`), so after a run's first shard the others read neither again; a
 * run not planned yet is read again each time.
 */
import type { StrategyThrottle } from '@upshift/events/contract';
import { readPlannedFacts, type Queryable } from '@upshift/runtime';
import { throttleLimits } from './throttle-limits.ts';

/** A planned run as its shards use it. */
export interface PlannedRun {
  readonly checksums: ReadonlyMap<string, string>;
  readonly throttle: StrategyThrottle;
}

const unknownRun: PlannedRun = { checksums: new Map(), throttle: throttleLimits(undefined) };

export class PlannedRuns {
  readonly #runs = new Map<string, PlannedRun>();
  readonly #maxRuns: number;

  constructor(maxRuns = 256) {
    this.#maxRuns = maxRuns;
  }

  /** The run's planned facts (an unknown run: no checksums and the default limits). */
  async of(db: Queryable, runId: string): Promise<PlannedRun> {
    const kept = this.#runs.get(runId);
    if (kept) return kept;
    const facts = await readPlannedFacts(db, runId);
    if (!facts) return unknownRun;
    const run = { checksums: facts.checksums, throttle: throttleLimits(facts.throttle) };
    if (facts.planned) this.#keep(runId, run);
    return run;
  }

  #keep(runId: string, run: PlannedRun): void {
    this.#runs.set(runId, run);
    const oldest = this.#runs.keys().next().value;
    if (this.#runs.size > this.#maxRuns && oldest !== undefined) this.#runs.delete(oldest);
  }
}
