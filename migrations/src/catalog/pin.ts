/**
 * A run's migrations are pinned by checksum when plan plans them (`ScheduledMigration.checksum` in the
 * run plan); migrate-shard and verify act only on the catalog entry with that checksum, so an entry
 * edited or replaced after planning (its YAML or its transform module) never runs in that run.
 */
import { MigrationError } from '../errors.ts';
import { formatProblem, migrationByRef, readCatalogEntry } from './load.ts';
import type { Catalog, Migration } from './load.ts';

/**
 * The entry `ref` with the checksum the run planned. The loaded catalog's entry when it matches; else
 * the folder is read again (a process that loaded the catalog before the folder was updated still acts
 * on what was planned); else a permanent CATALOG_CHANGED error naming the entry and both checksums.
 * `planned` undefined (a run planned before checksums were recorded): the loaded entry, unchecked.
 */
export function plannedMigration(catalog: Catalog, ref: string, planned: string | undefined): Migration {
  if (planned === undefined) return migrationByRef(catalog, ref);
  const loaded = catalog.migrations.get(ref);
  if (loaded?.checksum === planned) return loaded;
  const now = readCatalogEntry(catalog.dir, ref);
  if (now !== undefined && !('problems' in now) && now.checksum === planned) return now;
  throw new MigrationError('CATALOG_CHANGED', `catalog entry ${ref} changed since the run was planned (planned ${planned}, now ${describe(now)})`, { migration: ref });
}

/** What the folder holds now for the entry, in words: its checksum, or why it has none. */
function describe(now: ReturnType<typeof readCatalogEntry>): string {
  if (now === undefined) return 'no such entry in the catalog';
  if ('problems' in now) return `invalid: ${now.problems.map(formatProblem).join('; ')}`.slice(0, 1000);
  return now.checksum;
}
