/** Throw-away catalogs written to a temp folder, for tests that need their own migrations. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Writes `files` (name → YAML) into a fresh temp folder; `remove` deletes it. */
export function writeCatalog(files: Record<string, string>): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'upshift-catalog-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A PostgreSQL migration of an orders-shaped table: amount → amount_minor, marker schema_version 1 → 2. */
export function ordersMigrationYaml(options: { name: string; table: string; extraSet?: Record<string, string>; addColumns?: string[] }): string {
  const set = { amount_minor: 'round(coalesce(amount, 0) * 100)::bigint', ...options.extraSet };
  return `apiVersion: upshift.dev/v1alpha1
kind: Migration
name: ${options.name}
version: 1
store: postgres
connection: TEST_DATABASE_URL
table: ${options.table}
key: id
marker: { column: schema_version, from: 1, to: 2 }
expand:
  addColumns:
    - { name: amount_minor, type: bigint }
${(options.addColumns ?? []).map((column) => `    - ${column}\n`).join('')}backfill:
  set:
${Object.entries(set).map(([column, expression]) => `    ${column}: ${JSON.stringify(expression)}`).join('\n')}
`;
}
