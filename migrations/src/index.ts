/**
 * @upshift/migrations — the migration catalog (format, loading, checksums, lint) and the store engines
 * (PostgreSQL, MongoDB) that plan, migrate-shard and verify call.
 */
export { CatalogError, formatProblem, lintCatalog, loadCatalog, migrationByRef, readCatalogEntry, readMigrationFile } from './catalog/load.ts';
export type { Catalog, CatalogProblem, Migration, MigrationIdentity, MongoMigration, PostgresMigration, TransformSources } from './catalog/load.ts';
export { plannedMigration } from './catalog/pin.ts';
export { MigrationFile, MongoMigrationFile, PostgresMigrationFile } from './catalog/schema.ts';
export { canonicalJson, migrationChecksum } from './catalog/checksum.ts';
export { isSqlIdentifier, sqlFragmentProblem } from './catalog/identifiers.ts';
export { preflightCatalog, runCatalogLintCommand } from './catalog/lint-command.ts';
export type { LintCommandIo } from './catalog/lint-command.ts';
export { defaultBatchSizeLimits, fitBatchTime, nextBatchSize, rememberBatch, rowsForTarget, throttledBatchSize } from './core/batch-size.ts';
export type { BatchObservation, BatchSizeLimits, BatchTimeModel } from './core/batch-size.ts';
export { advanceCheckpoint, initialCheckpoint } from './core/checkpoint.ts';
export type { ShardCheckpoint } from './core/checkpoint.ts';
export { autoShardCount, imbalance, quantileFractions, rangesFromBoundaries } from './core/shards.ts';
export type { KeyRange } from './core/shards.ts';
export type { AroundPage, BatchRequest, BatchResult, ConflictRule, InvariantResult, MigrationEngine, PreflightProblem, RestoreFinding, RestoreResult, RestoreScope } from './engine.ts';
export { maxRestoreFindings, unthrottledPage } from './engine.ts';
export { isMigrationError, MigrationError, migrationErrorCodes } from './errors.ts';
export type { MigrationErrorCode } from './errors.ts';
export { connectionUrlFor, openEngine } from './open-engine.ts';
export type { OpenEngineOptions } from './open-engine.ts';
export { createPostgresEngine } from './postgres/engine.ts';
export type { PostgresEngineOptions } from './postgres/engine.ts';
export { createMongoEngine } from './mongodb/engine.ts';
export type { MongoEngineOptions } from './mongodb/engine.ts';
export { runShard } from './runner.ts';
export type { RunShardOptions, ShardSpec } from './runner.ts';
export { backupSchema, backupTableName } from './postgres/sql.ts';
export { backupCollectionName, backupOwnersCollection } from './mongodb/engine.ts';
export { openSignalReader, storeKeyOf } from './signals/reading.ts';
export type { OperatorThrottleQuery, StoreSignalReader, StoreSignalReading } from './signals/reading.ts';
