import type { createPool, HandlerContext } from '@upshift/runtime';
import type { EngineRegistry } from './adapters/engines.ts';
import type { ShardSlots } from './slots.ts';
import type { MigrateShardConfig } from './config.ts';

/** The control-store pool (the runtime's pg types). */
export type Pool = ReturnType<typeof createPool>;

/** Handler context of migrate-shard. */
export type MigrateContext = HandlerContext<MigrateShardConfig>;

/** What the handlers share in one process: the control-store pool for work outside the handling transaction, the engines, who we are. */
export interface MigrateDeps {
  /** Leases and checkpoints commit on their own, outside the handling transaction (progress survives a crash). */
  pool: Pool;
  engines: EngineRegistry;
  /** This process, as lease holder. */
  holder: string;
  /** Caps concurrent shard work in this process. */
  slots: ShardSlots;
}
