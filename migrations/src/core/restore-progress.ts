/**
 * Where a shard restore is (pure): first the backed-up rows page by page, then the rows at the new
 * version the run did not migrate, then done. Persisted with every page in the page's own transaction,
 * so a restore interrupted anywhere resumes after the last committed page and counts every row once.
 */

/** The persisted position of one shard's restore. */
export interface RestoreProgress {
  phase: 'backup' | 'created' | 'done';
  /** The last key of the phase already handled (`null`: from the start of the range). */
  lastKey: string | null;
  /** Rows/documents of which something was put back, over every attempt. */
  restored: number;
}

/** The progress of a restore that has not started. */
export const restoreStart: RestoreProgress = { phase: 'backup', lastKey: null, restored: 0 };

/** What one committed page did. */
export interface RestorePage {
  lastKey: string | null;
  paged: number;
  restored: number;
}

/** The progress after a committed page of `pageSize`: a short page ends its phase. */
export function advanceRestore(progress: RestoreProgress, page: RestorePage, pageSize: number): RestoreProgress {
  const restored = progress.restored + page.restored;
  if (page.paged < pageSize || page.lastKey === null) {
    return { phase: progress.phase === 'backup' ? 'created' : 'done', lastKey: null, restored };
  }
  return { phase: progress.phase, lastKey: page.lastKey, restored };
}
