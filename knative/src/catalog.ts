/**
 * The migration catalog as ConfigMap data: migration files and their transform modules. Migration
 * files are named `<name>@<version>.yaml`, but a
 * ConfigMap key may only hold [-._a-zA-Z0-9], so each file gets a safe key and the volume's `items`
 * map the key back to the file name the catalog loader requires.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/** One catalog file: its ConfigMap key and its name in the mounted folder. */
export interface CatalogFile {
  readonly key: string;
  readonly fileName: string;
}

/** The ConfigMap key of a catalog file name (`orders-currency@1.yaml` → `orders-currency.v1.yaml`). */
export function configMapKey(fileName: string): string {
  const key = fileName.replace('@', '.v');
  if (!/^[-._a-zA-Z0-9]+$/.test(key)) throw new Error(`catalog file ${fileName} has no valid ConfigMap key (${key})`);
  return key;
}

/** The catalog files of a folder, sorted: migrations and the transform modules they name. */
export function catalogFiles(dir: string): CatalogFile[] {
  return readdirSync(dir)
    .filter((name) => /\.(ya?ml|m?js)$/.test(name))
    .sort()
    .map((fileName) => ({ key: configMapKey(fileName), fileName }));
}

/**
 * The connection variables the catalog's migrations name (`connection: SHOP_DATABASE_URL`), sorted and
 * distinct: each becomes one env variable of the functions that open stores, read from its own key of
 * the store connections Secret (read-only or read-write: see service.ts).
 */
export function connectionVariables(dir: string, files: readonly CatalogFile[]): string[] {
  const names = new Set<string>();
  for (const { fileName } of files) {
    if (!/\.ya?ml$/.test(fileName)) continue;
    const connection = (parse(readFileSync(join(dir, fileName), 'utf8')) as { connection?: unknown } | null)?.connection;
    if (typeof connection !== 'string' || !/^[A-Z_][A-Z0-9_]*$/.test(connection)) {
      throw new Error(`catalog file ${fileName}: connection must name an environment variable (e.g. SHOP_DATABASE_URL)`);
    }
    names.add(connection);
  }
  return [...names].sort();
}
