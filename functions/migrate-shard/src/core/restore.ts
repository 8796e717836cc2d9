/** Which shards a rollback restores (pure): every shard that may have changed a row. */

/** A shard step of a run. */
export interface ShardStepSeen {
  shardId: string;
  migration: string;
  status: string;
}

/** Statuses of shards that never changed anything (or were stopped before starting). */
const untouched = new Set(['pending', 'cancelled']);

/**
 * The shards to restore, in shard id order: those that started (running, completed, failed, or a
 * restore under way or done — restoring again is idempotent and answers the fan-in again).
 */
export function shardsToRestore(steps: ReadonlyArray<ShardStepSeen>): ShardStepSeen[] {
  return steps.filter((step) => !untouched.has(step.status)).sort((a, b) => a.shardId.localeCompare(b.shardId, 'en', { numeric: true }));
}
