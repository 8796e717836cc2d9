/**
 * The migration engines of this process: the catalog loaded once, one engine per migration entry opened
 * on first use (its connection URL from the variable the catalog names) and shared by every shard. Every
 * use names the checksum the run planned for the entry (`plannedChecksums`): an entry that changed since
 * is refused (CATALOG_CHANGED, permanent), so a run never acts on catalog content nobody planned.
 */
import { isMigrationError, loadCatalog, openEngine, openSignalReader, plannedMigration } from '@upshift/migrations';
import type { BatchResult, Catalog, Migration, MigrationEngine, StoreSignalReader } from '@upshift/migrations';
import { readPlannedFacts, redactCredentials, UpshiftError, type Queryable } from '@upshift/runtime';

/** Engines by migration entry (ref and checksum), over one catalog folder. */
export class EngineRegistry {
  readonly #dir: string;
  readonly #env: Readonly<Record<string, string | undefined>>;
  readonly #poolSize: number;
  readonly #engines = new Map<string, MigrationEngine>();
  readonly #readers = new Map<string, StoreSignalReader>();
  readonly #onBatch: BatchObserver | undefined;
  #catalog: Catalog | undefined;
  #catalogError: Error | undefined;

  constructor(catalogDir: string, env: Readonly<Record<string, string | undefined>>, poolSize: number, onBatch?: BatchObserver) {
    this.#onBatch = onBatch;
    this.#dir = catalogDir;
    this.#env = env;
    this.#poolSize = poolSize;
    try {
      this.#catalog = loadCatalog(catalogDir);
    } catch (error) {
      this.#catalogError = error instanceof Error ? error : new Error(String(error));
    }
  }

  /**
   * The catalog entry of `ref` with the checksum `planned` (undefined: a run planned before checksums were
   * recorded, unchecked); throws CATALOG_CHANGED or the catalog's own error (permanent for that migration).
   */
  migration(ref: string, planned: string | undefined): Migration {
    if (this.#catalog) return plannedMigration(this.#catalog, ref, planned);
    // Loading failed at start: a planned entry may still be read from the folder as it is now.
    if (planned === undefined) throw this.#catalogError ?? new Error('the migration catalog is not loaded');
    return plannedMigration({ dir: this.#dir, migrations: new Map() }, ref, planned);
  }

  /** The engine of the entry `ref` with the checksum `planned` (see `migration`), opened once per process. */
  engine(ref: string, planned: string | undefined): MigrationEngine {
    // An engine is opened from one entry: one under the planned checksum runs exactly what was planned.
    const pinned = planned === undefined ? undefined : this.#engines.get(`${ref} ${planned}`);
    if (pinned) return pinned;
    const migration = this.migration(ref, planned);
    const key = `${ref} ${migration.checksum}`;
    const open = this.#engines.get(key);
    if (open) return open;
    const opened = openEngine(migration, this.#env, { poolSize: this.#poolSize });
    const engine = this.#onBatch ? observeBatches(opened, migration, this.#onBatch) : opened;
    this.#engines.set(key, engine);
    return engine;
  }

  /** The store signal reader of the entry `ref` (one connection of its own, opened once per process), for the store throttle. */
  signals(ref: string, planned: string | undefined): StoreSignalReader {
    const migration = this.migration(ref, planned);
    const key = `${ref} ${migration.checksum}`;
    const reader = this.#readers.get(key) ?? openSignalReader(migration, this.#env);
    this.#readers.set(key, reader);
    return reader;
  }

  /** Closes every engine and signal reader (shutdown). */
  async close(): Promise<void> {
    const engines = [...this.#engines.values(), ...this.#readers.values()];
    this.#engines.clear();
    this.#readers.clear();
    await Promise.allSettled(engines.map((engine) => engine.close()));
  }
}

/** Told of every batch an engine ran (metrics: records migrated, batch latency). */
export type BatchObserver = (migration: Migration, batch: BatchResult) => void;

/** The engine with `runBatch` reporting each finished batch to `onBatch`; every other member is the engine's own. */
function observeBatches(engine: MigrationEngine, migration: Migration, onBatch: BatchObserver): MigrationEngine {
  const runBatch: MigrationEngine['runBatch'] = async (request) => {
    const batch = await engine.runBatch(request);
    onBatch(migration, batch);
    return batch;
  };
  return new Proxy(engine, {
    get(target, property) {
      if (property === 'runBatch') return runBatch;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** The checksum the run's plan pinned for each migration ref (none for a run planned before they were recorded). */
export async function plannedChecksums(db: Queryable, runId: string): Promise<ReadonlyMap<string, string>> {
  return (await readPlannedFacts(db, runId))?.checksums ?? new Map();
}

/**
 * Engine errors a retry can fix become the runtime's retried codes (the delivery comes back later);
 * anything else is returned as the permanent failure's message, for a `*.failed` event.
 */
export function retryOrMessage(error: unknown, what: string): string {
  if (isMigrationError(error, 'THROTTLED')) throw new UpshiftError('THROTTLED', `${what}: ${error.message}`, { cause: error });
  if (isMigrationError(error, 'UNAVAILABLE')) throw new UpshiftError('UNAVAILABLE', `${what}: ${error.message}`, { cause: error });
  if (isMigrationError(error) || (error instanceof Error && error.name === 'CatalogError')) return `${what}: ${databaseWords(error)}`;
  throw error;
}

/** The error's message (passwords it quotes redacted) plus, for a database error, its SQLSTATE and constraint (never the row's values). */
export function databaseWords(error: unknown): string {
  const message = redactCredentials(error instanceof Error ? error.message : String(error));
  const cause = (error as { cause?: { code?: unknown; constraint?: unknown } }).cause;
  const facts = [
    typeof cause?.code === 'string' || typeof cause?.code === 'number' ? `code ${String(cause.code)}` : undefined,
    typeof cause?.constraint === 'string' ? `constraint ${cause.constraint}` : undefined,
  ].filter(Boolean);
  return facts.length > 0 ? `${message} (${facts.join(', ')})` : message;
}
