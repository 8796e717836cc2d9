import { loadCatalog, openEngine, type Catalog, type Migration, type MigrationEngine } from '@upshift/migrations';
import type { UpgradePolicy } from '@upshift/events';
import type { MigrationSeen } from '../core/preflight.ts';

/** A migration of the policy as preflight saw it, with what planning needs (store, size). */
export interface MigrationFacts extends MigrationSeen {
  store?: 'postgres' | 'mongodb';
  estimatedRows?: number;
  checksum?: string;
}

/** Loads the catalog once per process; a broken catalog is reported per migration instead of crashing. */
export function catalogFrom(dir: string): { catalog?: Catalog; error?: string } {
  try {
    return { catalog: loadCatalog(dir) };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * For each migration of the policy: is it in the catalog, is its store reachable and shaped as the
 * catalog says (the engine's read-only preflight), and how many rows it holds. Changes nothing.
 */
export async function observeMigrations(
  policy: UpgradePolicy,
  catalog: Catalog | undefined,
  env: Readonly<Record<string, string | undefined>>,
): Promise<MigrationFacts[]> {
  const facts: MigrationFacts[] = [];
  for (const [index, spec] of policy.spec.migrations.entries()) {
    const migration = catalog?.migrations.get(spec.ref);
    if (!migration) {
      facts.push({ ref: spec.ref, index, inCatalog: false });
      continue;
    }
    const base = { ref: spec.ref, index, inCatalog: true, store: migration.store, checksum: migration.checksum };
    facts.push({ ...base, ...(await probeStore(migration, env)) });
  }
  return facts;
}

async function probeStore(migration: Migration, env: Readonly<Record<string, string | undefined>>): Promise<Partial<MigrationFacts>> {
  let engine: MigrationEngine | undefined;
  try {
    engine = openEngine(migration, env, { poolSize: 1 });
    const problems = await engine.preflight();
    if (problems.length > 0) return { reachable: false, error: problems.map((p) => `${p.path}: ${p.message}`).join('; ') };
    return { reachable: true, estimatedRows: await engine.estimateCount() };
  } catch (error) {
    return { reachable: false, error: error instanceof Error ? error.message : String(error) };
  } finally {
    await engine?.close().catch(() => undefined);
  }
}
