import { HostConfig } from '@upshift/runtime';
import { z } from 'zod';

/** verify's environment: the host's, plus the migration catalog it checks against. */
export const VerifyConfig = HostConfig.extend({
  UPSHIFT_CATALOG_DIR: z.string().min(1).default('examples/catalog'),
}).loose(); // keeps every other variable: the catalog names the store connection variables (e.g. SHOP_DATABASE_URL)
/** Parsed verify configuration. */
export type VerifyConfig = z.infer<typeof VerifyConfig>;
