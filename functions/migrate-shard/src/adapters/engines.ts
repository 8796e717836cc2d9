/**
 * The migration engines of this process: the catalog loaded once, one engine per migration opened on
 * first use (its connection URL from the variable the catalog names) and shared by every shard.
 */
import { isMigrationError, loadCatalog, migrationByRef, openEngine } from '@upshift/migrations';
import type { Catalog, Migration, MigrationEngine } from '@upshift/migrations';
import { UpshiftError } from '@upshift/runtime';

/** Engines by migration ref, over one catalog. */
export class EngineRegistry {
  readonly #env: Readonly<Record<string, string | undefined>>;
  readonly #poolSize: number;
  readonly #engines = new Map<string, MigrationEngine>();
  #catalog: Catalog | undefined;
  #catalogError: Error | undefined;

  constructor(catalogDir: string, env: Readonly<Record<string, string | undefined>>, poolSize: number) {
    this.#env = env;
    this.#poolSize = poolSize;
    try {
      this.#catalog = loadCatalog(catalogDir);
    } catch (error) {
      this.#catalogError = error instanceof Error ? error : new Error(String(error));
    }
  }

  /** The catalog entry of `ref`; throws the catalog's own error (a permanent failure for that migration). */
  migration(ref: string): Migration {
    if (!this.#catalog) throw this.#catalogError ?? new Error('the migration catalog is not loaded');
    return migrationByRef(this.#catalog, ref);
  }

  /** The engine of `ref`, opened once per process. */
  engine(ref: string): MigrationEngine {
    const open = this.#engines.get(ref);
    if (open) return open;
    const engine = openEngine(this.migration(ref), this.#env, { poolSize: this.#poolSize });
    this.#engines.set(ref, engine);
    return engine;
  }

  /** Closes every engine (shutdown). */
  async close(): Promise<void> {
    const engines = [...this.#engines.values()];
    this.#engines.clear();
    await Promise.allSettled(engines.map((engine) => engine.close()));
  }
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

/** The error's message plus, for a database error, its SQLSTATE and constraint (never the row's values). */
export function databaseWords(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause = (error as { cause?: { code?: unknown; constraint?: unknown } }).cause;
  const facts = [
    typeof cause?.code === 'string' || typeof cause?.code === 'number' ? `code ${String(cause.code)}` : undefined,
    typeof cause?.constraint === 'string' ? `constraint ${cause.constraint}` : undefined,
  ].filter(Boolean);
  return facts.length > 0 ? `${message} (${facts.join(', ')})` : message;
}
