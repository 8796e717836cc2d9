/**
 * A migration's transform module: `export function transform(doc)` returns the migrated document (or,
 * as `down.transform`, a document of the new version in its old form).
 * It is catalog code (shipped by the operator next to the migration file, checksummed with it), never
 * event content; it runs in the migrate-shard process on a deep copy of each pre-image.
 */
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
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
  let module: { transform?: unknown };
  try {
    module = (await import(pathToFileURL(path).href)) as { transform?: unknown };
  } catch (error) {
    throw new MigrationError('CATALOG_INVALID', `${migration.ref}: cannot load the transform module ${path}: ${(error as Error).message}`, { cause: error, migration: migration.ref });
  }
  if (typeof module.transform !== 'function') {
    throw new MigrationError('CATALOG_INVALID', `${migration.ref}: the transform module ${path} must export a function transform(doc)`, { migration: migration.ref });
  }
  return module.transform as DocumentTransform;
}
