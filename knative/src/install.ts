/**
 * The install-time settings (knative/install.yaml): the namespaces upshift may change, the Knative data
 * plane allowed to call the functions, and how Kafka is secured. One zod schema, parsed once by the
 * generator, failing with the field path; every manifest that depends on them derives from the result.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { Dns1123Label } from '@upshift/events/contract';
import type { CatalogFile } from './catalog.ts';

/** Where the settings live, relative to the repository root. */
export const INSTALL_SETTINGS = 'knative/install.yaml';

/** The settings file's schema. */
export const InstallSettings = z.strictObject({
  targetNamespaces: z.array(Dns1123Label).min(1, 'name at least one namespace upshift may change')
    .refine((names) => new Set(names).size === names.length, 'names a namespace twice'),
  dataPlane: z.strictObject({
    eventingNamespace: Dns1123Label.default('knative-eventing'),
    servingNamespace: Dns1123Label.default('knative-serving'),
    ingressNamespace: Dns1123Label.default('kourier-system'),
  }).prefault({}),
  kafka: z.strictObject({
    sasl: z.boolean().default(true),
    tls: z.boolean().default(true),
    caCert: z.boolean().default(true),
  }).prefault({}).refine((kafka) => kafka.tls || !kafka.caCert, { message: 'caCert needs tls: true', path: ['caCert'] }),
});
/** Parsed settings. */
export type InstallSettings = z.infer<typeof InstallSettings>;

/** Parses settings text; throws naming every wrong field (`targetNamespaces.1: must be a DNS-1123 label…`). */
export function parseInstallSettings(text: string, source = INSTALL_SETTINGS): InstallSettings {
  const result = InstallSettings.safeParse(parse(text) ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(file)'}: ${issue.message}`);
  throw new Error(`${source}: ${problems.join('; ')}`);
}

/** The settings of the repository at `repoRoot`. */
export function loadInstallSettings(repoRoot: string, path = INSTALL_SETTINGS): InstallSettings {
  return parseInstallSettings(readFileSync(join(repoRoot, path), 'utf8'), path);
}

/** Everything an install's manifests derive from besides the catalogue: its settings and its migration catalog. */
export interface Install {
  readonly settings: InstallSettings;
  /** The catalog files (ConfigMap keys and file names). */
  readonly catalog: readonly CatalogFile[];
  /** The connection variables the catalog names (SHOP_DATABASE_URL, ...). */
  readonly connections: readonly string[];
}
