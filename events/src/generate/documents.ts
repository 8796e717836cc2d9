/**
 * The generated documents under events/generated/, as a map from relative path to content, so
 * the generator writes them and a test compares them with what is checked in.
 */
import { readFileSync } from 'node:fs';
import { entries } from '../catalogue.ts';
import { asyncApiDocument } from './asyncapi.ts';
import { eventDataSchema, policySchema, POLICY_SCHEMA_FILE, schemaFileName, type JsonSchema } from './jsonschema.ts';
import { withTable } from './table.ts';

/** The events package root. */
export const eventsRoot = new URL('../../', import.meta.url);
/** Where generated documents live. */
export const generatedDir = new URL('generated/', eventsRoot);
/** The append-only record of every published type's data schema. */
export const publishedSnapshotFile = new URL('test/snapshots/published-schemas.json', eventsRoot);

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('package.json', eventsRoot), 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}

/** Every generated file, keyed by path relative to events/generated/. */
export function generatedDocuments(): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of entries) files.set(`schemas/${schemaFileName(entry)}`, json(eventDataSchema(entry)));
  files.set(`schemas/${POLICY_SCHEMA_FILE}`, json(policySchema()));
  files.set('asyncapi.json', json(asyncApiDocument(packageVersion())));
  return files;
}

/** The README file, whose topic/type table is generated. */
export const readmeFile = new URL('README.md', eventsRoot);

/** The README as it should be: the checked-in text with a fresh catalogue table. */
export function expectedReadme(): string {
  return withTable(readFileSync(readmeFile, 'utf8'));
}

/** Reads the published-schema snapshot (versioned type → data schema). */
export function readPublishedSnapshot(): Record<string, JsonSchema> {
  try {
    return JSON.parse(readFileSync(publishedSnapshotFile, 'utf8')) as Record<string, JsonSchema>;
  } catch {
    return {};
  }
}

/**
 * The snapshot with new types added. Existing entries are never overwritten: a published type's
 * schema is frozen, so changing it fails the snapshot test until the type's version is bumped.
 */
export function extendedSnapshot(current: Record<string, JsonSchema>): Record<string, JsonSchema> {
  const next: Record<string, JsonSchema> = { ...current };
  for (const entry of entries) if (!(entry.type in next)) next[entry.type] = eventDataSchema(entry);
  return Object.fromEntries(Object.entries(next).sort(([a], [b]) => a.localeCompare(b)));
}

/** Serializes the snapshot file. */
export function snapshotText(snapshot: Record<string, JsonSchema>): string {
  return json(snapshot);
}
