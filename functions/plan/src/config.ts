import { HostConfig } from '@upshift/runtime';
import { z } from 'zod';

/** plan's environment: the host's, plus where the migration catalog lives. */
export const PlanConfig = HostConfig.extend({
  /** The operator's migration catalog (a folder; a mounted ConfigMap in the cluster). */
  UPSHIFT_CATALOG_DIR: z.string().min(1).default('examples/catalog'),
  /**
   * The user rollout acts as in the target clusters (e.g. system:serviceaccount:upshift:upshift-rollout).
   * Set: preflight asks with a SubjectAccessReview whether that user may get/patch each workload. Unset:
   * plan uses the same credential as rollout and asks with a SelfSubjectAccessReview (local dev).
   */
  UPSHIFT_ROLLOUT_IDENTITY: z.string().min(1).optional(),
}).loose(); // keeps every other variable: the catalog names the store connection variables (e.g. SHOP_DATABASE_URL)
/** Parsed plan configuration. */
export type PlanConfig = z.infer<typeof PlanConfig>;
