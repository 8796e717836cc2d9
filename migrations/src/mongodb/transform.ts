/**
 * A migration's transform module: `export function transform(doc)` returns the migrated document (or,
 * as `down.transform`, a document of the new version in its old form).
 * It is catalog code (shipped by the operator next to the migration file, checksummed with it), never
 * event content; it runs in the migrate-shard process on a deep copy of each pre-image.
 *
 * The module is imported from the text the catalog read and checksummed at load (a `data:` URL), never
 * from its file: an edit of the file after load cannot run, there is no second read to race and no file
 * to write (the container's filesystem may be read-only). It is an ES module on its own: a `data:` URL
 * resolves no relative or package import, so no code outside the checksum can come in (`node:`
 * built-ins still resolve). A last comment line names the file, so stack traces point at it.
 */
import { dirname, join } from 'node:path';
import type { BSON, Document } from 'mongodb';
import type { MongoMigration } from '../catalog/load.ts';
import { MigrationError } from '../errors.ts';

/**
 * What a transform gets besides the document: the driver's BSON classes (`BSON.Decimal128`,
 * `BSON.ObjectId`, …), since a module in the catalog folder cannot import `mongodb` itself and its
 * values must be the classes the engine's driver serializes.
 */
export interface TransformHelpers {
  BSON: typeof BSON;
}

/** The transform a module exports; it may be async. */
export type DocumentTransform = (document: Document, helpers: TransformHelpers) => Document | Promise<Document>;

/** Which module: `backfill.transform` migrates, `down.transform` brings documents the new version created back. */
export type TransformPhase = 'backfill' | 'down';

/** Imports the migration's `backfill.transform` (or `down.transform`) module, or undefined when that phase is declarative. */
export async function loadTransform(migration: MongoMigration, phase: TransformPhase = 'backfill'): Promise<DocumentTransform | undefined> {
  const name = migration[phase].transform;
  if (name === undefined) return undefined;
  const path = join(dirname(migration.file), name);
  const source = migration.transformSources?.[phase];
  if (source === undefined) {
    throw new MigrationError('CATALOG_INVALID', `${migration.ref}: the transform module ${path} was not read with the catalog (load the migration with loadCatalog)`, { migration: migration.ref });
  }
  const url = moduleUrl(source, path);
  let module: { transform?: unknown };
  try {
    module = (await import(url)) as { transform?: unknown };
  } catch (error) {
    const unresolved = (error as NodeJS.ErrnoException).code === 'ERR_UNSUPPORTED_RESOLVE_REQUEST';
    const message = `${(error as Error).message.replaceAll(url, path)}${unresolved ? ' (a transform module is one ES module: it may import node: built-ins only)' : ''}`;
    throw new MigrationError('CATALOG_INVALID', `${migration.ref}: cannot load the transform module ${path}: ${message}`, { cause: error, migration: migration.ref });
  }
  if (typeof module.transform !== 'function') {
    throw new MigrationError('CATALOG_INVALID', `${migration.ref}: the transform module ${path} must export a function transform(doc)`, { migration: migration.ref });
  }
  return module.transform as DocumentTransform;
}

/**
 * The module's text as a `data:` URL: exactly the checksummed text, plus one comment line naming its
 * file for stack traces (after a line break, so it cannot join a last line comment). The same text
 * gives the same URL, so importing it again reuses the module.
 */
function moduleUrl(source: string, path: string): string {
  const named = `${source}\n//# sourceURL=${path.replace(/[\r\n]/g, ' ')}\n`;
  return `data:text/javascript;base64,${Buffer.from(named, 'utf8').toString('base64')}`;
}
