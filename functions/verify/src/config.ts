import { fileURLToPath } from 'node:url';
import { folderSetting, HostConfig } from '@upshift/runtime';
import { z } from 'zod';

/** The repository's example catalog, found from this file rather than the working directory: the default of UPSHIFT_CATALOG_DIR. */
const exampleCatalog = fileURLToPath(new URL('../../../examples/catalog', import.meta.url));

/** verify's environment: the host's, plus the migration catalog it checks against. */
export const VerifyConfig = HostConfig.extend({
  /** The operator's migration catalog (a folder; a mounted ConfigMap in the cluster); relative to the working directory. */
  UPSHIFT_CATALOG_DIR: folderSetting(exampleCatalog),
  /** How many times a dead-lettered event of a run is redriven (transient causes) before the run fails. */
  UPSHIFT_REDRIVE_LIMIT: z.coerce.number().int().min(0).max(20).default(5),
  /** How often the run watchdog looks for runs that stopped making progress (0: never). */
  UPSHIFT_WATCHDOG_INTERVAL_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
  /** A run that changed nothing for this long is stalled (generous: a long expand DDL changes nothing either). */
  UPSHIFT_STALL_AFTER_MS: z.coerce.number().int().min(1000).max(86_400_000).default(900_000),
  /** How many times a stalled run's unhandled events are published again before it fails. */
  UPSHIFT_STALL_NUDGES: z.coerce.number().int().min(0).max(20).default(2),
}).loose(); // keeps every other variable: the catalog names the store connection variables (e.g. SHOP_DATABASE_URL)
/** Parsed verify configuration. */
export type VerifyConfig = z.infer<typeof VerifyConfig>;
