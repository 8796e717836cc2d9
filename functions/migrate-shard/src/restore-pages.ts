/**
 * Restore pages sized like backfill batches: the engine asks for its own page size (PostgreSQL: 1,000
 * doubling to 5,000 rows), and this asks for no more than the adaptive batch-size controller
 * (`nextBatchSize`, fitted to the restore's own recent pages) says meets the policy's `targetBatchMs`;
 * each page then goes through the store throttle (`StoreThrottle.aroundPage`).
 */
import { nextBatchSize, rememberBatch } from '@upshift/migrations';
import type { AroundPage, BatchObservation, BatchSizeLimits } from '@upshift/migrations';

/** `aroundPage` with every page at most the size the controller asks for, learnt from the pages' own times (`now`: ms clock). */
export function pagesSizedToTarget(aroundPage: AroundPage, limits: BatchSizeLimits, now: () => number = () => performance.now()): AroundPage {
  let recent: BatchObservation[] = [];
  let size: number | undefined;
  return async <T>(pageSize: number, page: (pageSize: number) => Promise<T>): Promise<T> => {
    const asked = Math.min(pageSize, size ?? pageSize);
    return aroundPage(asked, async (allowed) => {
      const started = now();
      const result = await page(allowed);
      recent = rememberBatch(recent, { batchSize: asked, durationMs: now() - started, scanned: allowed });
      size = nextBatchSize(recent, limits);
      return result;
    });
  };
}
