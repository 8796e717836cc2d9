/**
 * The migration catalog as ConfigMap data: migration files and their transform modules. Migration
 * files are named `<name>@<version>.yaml`, but a
 * ConfigMap key may only hold [-._a-zA-Z0-9], so each file gets a safe key and the volume's `items`
 * map the key back to the file name the catalog loader requires.
 */
import { readdirSync } from 'node:fs';

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
