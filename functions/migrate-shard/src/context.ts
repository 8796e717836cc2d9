import type { HandlerContext } from '@upshift/runtime';
import type { EngineRegistry } from './adapters/engines.ts';
import type { PlannedRuns } from './adapters/planned-runs.ts';
import type { ShardSlots } from './slots.ts';
import type { MigrateShardConfig } from './config.ts';

/** Handler context of migrate-shard. */
export type MigrateContext = HandlerContext<MigrateShardConfig>;

/** What the handlers share in one process: the engines, who we are, how many shards at once. */
export interface MigrateDeps {
  engines: EngineRegistry;
  /** This process, as lease holder. */
  holder: string;
  /** Caps concurrent shard work in this process. */
  slots: ShardSlots;
  /** The planned checksums and throttle limits of the runs this process works on. */
  planned: PlannedRuns;
}
