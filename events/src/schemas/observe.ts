/** Data of the observation events users follow: verification results and run progress. */
import { z } from 'zod';
import { RunId } from '../names.ts';
import { Count, Stage } from './common.ts';

/** Verify a run that has no shard fan-in to wait for (no migrations) — consumed by verify. */
export const VerifyRequested = z.object({ runId: RunId });
export type VerifyRequested = z.infer<typeof VerifyRequested>;

/** verify's verdict per check (lifecycle); `passed` is the conjunction. */
export const VerifyResults = z.object({
  runId: RunId,
  passed: z.boolean(),
  checks: z.array(
    z.object({
      name: z.string().min(1).max(63),
      kind: z.enum(['workloadsAvailable', 'noOldVersion', 'invariants']),
      passed: z.boolean(),
      message: z.string().max(2000),
    }),
  ),
});
export type VerifyResults = z.infer<typeof VerifyResults>;

/** Where a run is, for `upshift watch` and dashboards (lifecycle). */
export const RunProgress = z.object({
  runId: RunId,
  stage: Stage,
  percent: z.number().min(0).max(100),
  wavesDone: Count,
  wavesTotal: Count,
  shardsDone: Count,
  shardsTotal: Count,
  rowsMigrated: Count,
  message: z.string().max(2000).optional(),
});
export type RunProgress = z.infer<typeof RunProgress>;
