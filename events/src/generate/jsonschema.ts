/**
 * JSON Schemas derived with zod 4's own `z.toJSONSchema`: one per event type's data (what a
 * consumer accepts: `io: 'input'`) and one for the UpgradePolicy document.
 */
import { z } from 'zod';
import { entries, type CatalogueEntry } from '../catalogue.ts';
import { formatBytes, policyLimits } from '../policy/limits.ts';
import { UpgradePolicy } from '../policy/schema.ts';

import { dataSchemaOf, SCHEMA_BASE } from '../dataschema.ts';

export { SCHEMA_BASE };

/** A JSON Schema document (opaque JSON). */
export type JsonSchema = Record<string, unknown>;

/** File name of an event type's data schema, e.g. `dev.upshift.shard.requested.v1.json`. */
export function schemaFileName(entry: Pick<CatalogueEntry, 'type'>): string {
  return `${entry.type}.json`;
}

/** The draft 2020-12 JSON Schema of an event type's `data`. */
export function eventDataSchema(entry: CatalogueEntry, target: 'draft-2020-12' | 'draft-7' = 'draft-2020-12'): JsonSchema {
  const schema = z.toJSONSchema(entry.schema, { target, io: 'input', unrepresentable: 'throw' }) as JsonSchema;
  return { ...schema, $id: dataSchemaOf(entry.type), title: entry.type, description: entry.description };
}

/** File name of the UpgradePolicy schema. */
export const POLICY_SCHEMA_FILE = 'upshift.dev.v1alpha1.UpgradePolicy.json';

/** The JSON Schema of the UpgradePolicy document (cross-reference rules are only in zod). */
export function policySchema(): JsonSchema {
  const schema = z.toJSONSchema(UpgradePolicy, { target: 'draft-2020-12', io: 'input', unrepresentable: 'throw' }) as JsonSchema;
  return {
    ...schema,
    $id: `${SCHEMA_BASE}${POLICY_SCHEMA_FILE}`,
    title: 'UpgradePolicy (upshift.dev/v1alpha1)',
    description: `What to upgrade, where, with which data migrations: at most ${formatBytes(policyLimits.documentBytes)} as JSON, at most ${policyLimits.targets} (service, cluster) pairs. Cross-references (dependsOn, clusters, cycles) are checked by upshift, not by this schema.`,
  };
}

/** Every data schema keyed by versioned type, for the published-schema snapshot. */
export function schemasByType(): Record<string, JsonSchema> {
  return Object.fromEntries(entries.map((e) => [e.type, eventDataSchema(e)]));
}
