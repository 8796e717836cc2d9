import { isMigrationError, loadCatalog, openEngine, type Catalog, type Migration, type MigrationEngine } from '@upshift/migrations';
import type { RunPlan, UpgradePolicy } from '@upshift/events';
import { redactCredentials } from '@upshift/runtime';
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

/**
 * The plan with each migration pinned to the checksum of the catalog entry preflight saw (YAML and
 * transform modules): migrate-shard and verify refuse to act on an entry that changed since.
 */
export function pinChecksums(plan: RunPlan, facts: readonly MigrationFacts[]): RunPlan {
  const checksums = new Map(facts.map((fact) => [fact.ref, fact.checksum]));
  return {
    ...plan,
    migrations: plan.migrations.map((migration) => {
      const checksum = checksums.get(migration.ref);
      // Preflight passed, so every migration is in the catalog: a missing checksum is a bug, not a plan.
      if (checksum === undefined) throw new Error(`migration ${migration.ref} has no catalog checksum to pin`);
      return { ...migration, checksum };
    }),
  };
}

async function probeStore(migration: Migration, env: Readonly<Record<string, string | undefined>>): Promise<Partial<MigrationFacts>> {
  let engine: MigrationEngine | undefined;
  try {
    engine = openEngine(migration, env, { poolSize: 1, readOnly: true });
    const problems = await engine.preflight();
    // The store answered: a migration that does not fit it (a composite key, an unknown column) is not "unreachable".
    if (problems.length > 0) return { reachable: true, mismatch: problems.map((p) => `${p.path}: ${p.message}`).join('; ') };
    return { reachable: true, estimatedRows: await engine.estimateCount() };
  } catch (error) {
    // A driver's error may quote the connection URL: it goes into the rejection and the log redacted.
    const message = redactCredentials(error instanceof Error ? error.message : String(error));
    if (isMigrationError(error, 'PREFLIGHT_FAILED')) return { reachable: true, mismatch: message };
    return { reachable: false, error: message };
  } finally {
    await engine?.close().catch(() => undefined);
  }
}
