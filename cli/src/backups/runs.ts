/**
 * Which runs still need a migration's backups, from the control store: a run holding the migration
 * (an unreleased `run_targets` claim) and the run that made the backup, with its status. The verdict is pure.
 */
import { activeHolders, finalRunStatuses, viewRun, type RunStatus, type TxClient } from '@upshift/runtime';

/** A run as the backups commands show it. */
export interface BackupRun {
  readonly id: string;
  readonly status: string;
  readonly createdAt: Date;
}

/** The runs of these ids that the control store knows. */
export async function readRuns(db: TxClient, ids: readonly string[]): Promise<Map<string, BackupRun>> {
  const runs = new Map<string, BackupRun>();
  for (const id of new Set(ids)) {
    const run = await viewRun(db, id);
    if (run) runs.set(id, { id, status: run.status, createdAt: run.createdAt });
  }
  return runs;
}

/** The active runs holding the migration (target = its name, as plan claims it). */
export async function runsHolding(db: TxClient, migrationName: string): Promise<string[]> {
  const holders = await activeHolders(db, '', [{ kind: 'migration', target: migrationName }]);
  return holders.map((h) => h.runId);
}

/**
 * Whether a backup may be dropped: not while a run holds the migration or the run that made it has not
 * ended (its rollback restores from it). A frozen run (failed) may still be rolled back by hand: allowed,
 * with a warning.
 */
export function dropVerdict(holding: readonly string[], owner: BackupRun | undefined): { allowed: boolean; reason?: string; warning?: string } {
  if (holding.length > 0) return { allowed: false, reason: `run ${holding.join(', ')} is active on this migration and may restore from it` };
  if (owner && !finalRunStatuses.has(owner.status as RunStatus)) return { allowed: false, reason: `run ${owner.id} that made it is ${owner.status}` };
  if (owner?.status === 'failed') return { allowed: true, warning: `run ${owner.id} that made it ended failed (frozen): without its backup it can no longer be rolled back` };
  return { allowed: true };
}
