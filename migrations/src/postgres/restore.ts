/**
 * The guarded restore of one shard: pages of backed-up rows, then the rows the new version created,
 * each page one short REPEATABLE READ transaction that also records its findings and the restore's
 * progress, so a restore interrupted anywhere resumes after its last committed page. A page that meets
 * a concurrent application write (40001) is retried smaller: the write stays, the page is decided again.
 */
import type pg from 'pg';
import type { PostgresMigration } from '../catalog/load.ts';
import { advanceRestore, restoreStart } from '../core/restore-progress.ts';
import type { RestoreProgress } from '../core/restore-progress.ts';
import type { KeyRange } from '../core/shards.ts';
import { maxRestoreFindings, unthrottledPage } from '../engine.ts';
import type { AroundPage, RestoreFinding, RestoreResult } from '../engine.ts';
import { isMigrationError, wrapPostgresError } from '../errors.ts';
import { createdPageStatement, qualifiedConflictsTable, qualifiedProgressTable, restorePageStatement } from './restore-sql.ts';
import type { FindingOwner } from './restore-sql.ts';
import type { TableModel } from './sql.ts';

/** Rows of the first restore page; pages double up to `maxPageSize`, and halve (down to `minPageSize`) when they meet concurrent writes. */
const firstPageSize = 1000;
const maxPageSize = 5000;
const minPageSize = 10;
/** Pages in a row that may meet concurrent writes before the restore gives up (the shard's restore is retried later). */
const maxConflictsInARow = 30;

type InTransaction = <T>(work: () => Promise<T>) => Promise<T>;

/** Restores `range` from where an earlier attempt stopped, each page through `aroundPage`; returns the totals over every attempt. */
export async function restoreRange(
  client: pg.ClientBase, migration: PostgresMigration, model: TableModel, range: KeyRange, owner: FindingOwner, inTransaction: InTransaction, aroundPage: AroundPage = unthrottledPage,
): Promise<RestoreResult> {
  let progress = await readProgress(client, owner);
  let pageSize = firstPageSize;
  let contended = 0;
  while (progress.phase !== 'done') {
    const current = progress;
    try {
      progress = await aroundPage(pageSize, (size) => {
        const statement = current.phase === 'backup'
          ? restorePageStatement(model, migration.down.conflicts, owner, range, current.lastKey, size)
          : createdPageStatement(migration, model, owner, range, current.lastKey, size);
        return inTransaction(async () => {
          const next = statement === undefined
            ? { ...current, phase: 'done' as const, lastKey: null }
            : advanceRestore(current, pageOf((await client.query<PageRow>(statement)).rows[0]), size);
          await saveProgress(client, owner, next);
          return next;
        });
      });
      contended = 0;
      pageSize = Math.min(maxPageSize, pageSize * 2);
    } catch (error) {
      const wrapped = wrapPostgresError(error, `${migration.ref}: restoring a page`, migration.ref);
      if (!isMigrationError(wrapped, 'THROTTLED') || contended >= maxConflictsInARow) throw wrapped;
      contended += 1;
      pageSize = Math.max(minPageSize, Math.floor(pageSize / 2));
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 20 * contended)));
    }
  }
  return summarize(client, owner, progress.restored);
}

interface PageRow {
  last_key: string | null;
  paged: number;
  restored: number;
}

function pageOf(row: PageRow | undefined): { lastKey: string | null; paged: number; restored: number } {
  return { lastKey: row?.last_key ?? null, paged: row?.paged ?? 0, restored: row?.restored ?? 0 };
}

async function readProgress(client: pg.ClientBase, owner: FindingOwner): Promise<RestoreProgress> {
  const { rows } = await client.query<{ phase: RestoreProgress['phase']; last_key: string | null; restored: string }>(
    `SELECT phase, last_key, restored FROM ${qualifiedProgressTable} WHERE run_id = $1 AND shard_id = $2 AND migration = $3`, [owner.runId, owner.shardId, owner.migration]);
  const row = rows[0];
  return row ? { phase: row.phase, lastKey: row.last_key, restored: Number(row.restored) } : restoreStart;
}

async function saveProgress(client: pg.ClientBase, owner: FindingOwner, progress: RestoreProgress): Promise<void> {
  await client.query(`INSERT INTO ${qualifiedProgressTable} (run_id, shard_id, migration, phase, last_key, restored) VALUES ($1, $2, $3, $4, $5, $6)
    ON CONFLICT (run_id, shard_id, migration) DO UPDATE SET phase = EXCLUDED.phase, last_key = EXCLUDED.last_key, restored = EXCLUDED.restored, updated_at = now()`,
  [owner.runId, owner.shardId, owner.migration, progress.phase, progress.lastKey, progress.restored]);
}

/** The shard's totals and first findings, from the conflicts table (every attempt's findings, each once). */
async function summarize(client: pg.ClientBase, owner: FindingOwner, restored: number): Promise<RestoreResult> {
  const scope = [owner.runId, owner.shardId, owner.migration];
  const { rows: counts } = await client.query<{ conflicts: number; created: number; reverted: number }>(
    `SELECT count(*) FILTER (WHERE kind <> 'created')::integer AS conflicts, count(*) FILTER (WHERE kind = 'created')::integer AS created,
            count(*) FILTER (WHERE decision = 'reverted')::integer AS reverted
       FROM ${qualifiedConflictsTable} WHERE run_id = $1 AND shard_id = $2 AND migration = $3`, scope);
  const { rows: findings } = await client.query<{ key: string; column_name: string; kind: RestoreFinding['kind']; decision: RestoreFinding['decision']; written: string | null; found: string | null }>(
    `SELECT key, column_name, kind, decision, left(written::text, 300) AS written, left(found::text, 300) AS found
       FROM ${qualifiedConflictsTable} WHERE run_id = $1 AND shard_id = $2 AND migration = $3 ORDER BY kind, key, column_name LIMIT ${maxRestoreFindings}`, scope);
  const count = counts[0];
  return {
    restored, conflicts: count?.conflicts ?? 0, created: count?.created ?? 0, createdReverted: count?.reverted ?? 0,
    findings: findings.map((row) => ({ key: row.key, column: row.column_name, kind: row.kind, decision: row.decision, written: row.written, found: row.found })),
  };
}
