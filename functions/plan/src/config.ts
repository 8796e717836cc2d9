import { fileURLToPath } from 'node:url';
import { Dns1123Label } from '@upshift/events';
import { folderSetting, HostConfig } from '@upshift/runtime';
import { z } from 'zod';

/** The repository's example catalog, found from this file rather than the working directory: the default of UPSHIFT_CATALOG_DIR. */
const exampleCatalog = fileURLToPath(new URL('../../../examples/catalog', import.meta.url));

/** A comma-separated list of namespace names (DNS-1123 labels), at least one, without repeats. */
const namespaceList = z.string()
  .transform((value) => value.split(',').map((name) => name.trim()).filter((name) => name !== ''))
  .pipe(z.array(Dns1123Label).min(1, 'name at least one namespace, or leave it unset for no limit')
    .refine((names) => new Set(names).size === names.length, 'names a namespace twice'));

/** plan's environment: the host's, plus where the migration catalog lives. */
export const PlanConfig = HostConfig.extend({
  /** The operator's migration catalog (a folder; a mounted ConfigMap in the cluster); relative to the working directory. */
  UPSHIFT_CATALOG_DIR: folderSetting(exampleCatalog),
  /**
   * The user rollout acts as in the target clusters (e.g. system:serviceaccount:upshift:upshift-rollout).
   * Set: preflight asks with a SubjectAccessReview whether that user may get/patch each workload. Unset:
   * plan uses the same credential as rollout and asks with a SelfSubjectAccessReview (local dev).
   */
  UPSHIFT_ROLLOUT_IDENTITY: z.string().min(1).optional(),
  /**
   * The namespaces upshift may change, comma-separated (e.g. `shop,payments`): the install's list, the
   * same one its RBAC binds rollout in (knative/install.yaml). A policy naming another is rejected.
   * Unset: no limit (local development); set, it must name at least one namespace.
   */
  UPSHIFT_NAMESPACES: namespaceList.optional(),
}).loose(); // keeps every other variable: the catalog names the store connection variables (e.g. SHOP_DATABASE_URL)
/** Parsed plan configuration. */
export type PlanConfig = z.infer<typeof PlanConfig>;
