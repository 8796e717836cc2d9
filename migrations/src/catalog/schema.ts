/**
 * The migration file format (one YAML document per file), as zod schemas: one schema and its type
 * under one name. Unknown fields are errors (`strictObject`) so a typo never silently drops a phase.
 */
import { z } from 'zod';
import {
  connectionVariablePattern, migrationNamePattern, migrationVersionPattern, mongoFieldPathPattern,
  mongoNamePattern, sqlIdentifierPattern,
} from './identifiers.ts';
import { columnTypeProblem, fragmentProblem } from './sql-guard.ts';
import type { SqlFragmentKind } from './sql-guard.ts';

/** A SQL identifier (table, column, index): validated, later quoted. */
export const SqlIdentifier = z.string().regex(sqlIdentifierPattern, 'must be a lowercase SQL identifier matching ^[a-z_][a-z0-9_]{0,62}$');

/** Catalog SQL of one kind, read by PostgreSQL's parser (sql-guard.ts); the reason names what it is not. */
function sqlOf(kind: SqlFragmentKind) {
  return z.string().min(1).max(8000).superRefine((sql, context) => {
    const problem = fragmentProblem(sql, kind);
    if (problem) context.addIssue({ code: 'custom', message: problem });
  });
}

/** A value for a `set` assignment: exactly one SQL expression. */
export const SqlFragment = sqlOf('expression');

/** A `where` or a guard: exactly one SQL condition. */
export const SqlCondition = sqlOf('condition');

/** A read-only query for an invariant: exactly one SELECT (no data-modifying WITH, SELECT INTO or FOR UPDATE). */
export const SqlQuery = sqlOf('query');

/** The environment variable / Secret key that holds the store's URL; the URL never appears in the catalog. */
export const ConnectionVariable = z.string().regex(connectionVariablePattern, 'must be an environment variable name like SHOP_DATABASE_URL (the URL itself never goes in the catalog)');

/** A value of a version marker. */
export const MarkerValue = z.union([z.int(), z.string().min(1).max(200)]);
export type MarkerValue = z.infer<typeof MarkerValue>;

/** A map whose keys must match `pattern`; a bad key is reported at its own path with `message`. */
function recordWithKeys<Value extends z.ZodType>(pattern: RegExp, message: string, value: Value) {
  return z.record(z.string(), value).superRefine((record, context) => {
    for (const key of Object.keys(record)) {
      if (!pattern.test(key)) context.addIssue({ code: 'custom', path: [key], message: `key ${message}` });
    }
  });
}

/** A PostgreSQL column type as written in DDL: a type and nothing else (no constraint, default or collation). */
export const SqlType = z.string().superRefine((type, context) => {
  const problem = columnTypeProblem(type);
  if (problem) context.addIssue({ code: 'custom', message: problem });
});

const Header = {
  apiVersion: z.literal('upshift.dev/v1alpha1'),
  kind: z.literal('Migration'),
  name: z.string().regex(migrationNamePattern, 'must be lowercase letters, digits and "-" (like orders-currency)'),
  version: z.union([z.int().min(1), z.string().regex(migrationVersionPattern, 'must be a version like 1 or 1.2')])
    .transform((version) => String(version)),
  description: z.string().max(2000).optional(),
  connection: ConnectionVariable,
};

/**
 * What a restore does with a migrated column/field the application changed after the migration:
 * `keep-current` (the application's value stays) or `restore` (the pre-image wins). Reported either way.
 */
export const ConflictRule = z.enum(['keep-current', 'restore']).default('keep-current');

/** An invariant checked by verify: a query returning one number that must equal `expect`. */
export const PostgresInvariant = z.strictObject({ name: z.string().min(1).max(200), sql: SqlQuery, expect: z.int().default(0) });
export type PostgresInvariant = z.infer<typeof PostgresInvariant>;

/** A PostgreSQL migration: single-column key, SQL assignments, structured (hence verifiable) DDL. */
export const PostgresMigrationFile = z.strictObject({
  ...Header,
  store: z.literal('postgres'),
  schema: SqlIdentifier.default('public'),
  table: SqlIdentifier,
  key: SqlIdentifier,
  marker: z.union([
    z.strictObject({ column: SqlIdentifier, from: MarkerValue, to: MarkerValue }),
    z.strictObject({ guard: SqlCondition }),
  ]),
  expand: z.strictObject({
    addColumns: z.array(z.strictObject({ name: SqlIdentifier, type: SqlType })).default([]),
    createIndexes: z.array(z.strictObject({
      name: SqlIdentifier, columns: z.array(SqlIdentifier).min(1), unique: z.boolean().default(false),
    })).default([]),
  }).default({ addColumns: [], createIndexes: [] }),
  backfill: z.strictObject({
    set: recordWithKeys(sqlIdentifierPattern, 'must be a lowercase SQL identifier matching ^[a-z_][a-z0-9_]{0,62}$', SqlFragment).refine((set) => Object.keys(set).length > 0, 'must assign at least one column'),
    where: SqlCondition.optional(),
  }),
  down: z.strictObject({
    restore: z.literal('backup').default('backup'),
    conflicts: ConflictRule,
    /** Brings rows the new version created (at `marker.to`, not in the backup) back to the old form; the marker goes back to `from`. */
    set: recordWithKeys(sqlIdentifierPattern, 'must be a lowercase SQL identifier matching ^[a-z_][a-z0-9_]{0,62}$', SqlFragment).optional(),
  }).default({ restore: 'backup', conflicts: 'keep-current' }),
  contract: z.strictObject({
    dropColumns: z.array(SqlIdentifier).default([]),
    setNotNull: z.array(SqlIdentifier).default([]),
  }).default({ dropColumns: [], setNotNull: [] }),
  invariants: z.array(PostgresInvariant).default([]),
  /**
   * The operator's throttle query for this migration's store (like gh-ost's `--throttle-query`): one
   * read-only SELECT whose first column of the first row is a number. A policy's
   * `strategy.throttle.query: { max }` holds the shards while it returns more than `max`. The SQL lives
   * here, reviewed with the migration's other SQL and checked by the same guard, never in a request.
   */
  throttleQuery: SqlQuery.optional(),
  /**
   * Lets this migration's SQL call functions of the deny-list (sql-guard.ts: ending sessions, sleeping,
   * advisory locks, settings, server files, large objects, dblink…). Nothing else: every fragment is still
   * exactly one expression or one read-only SELECT. For an operator who has reviewed why it needs them.
   */
  trusted: z.boolean().optional(),
});
export type PostgresMigrationFile = z.infer<typeof PostgresMigrationFile>;

const fieldPathMessage = 'must be a field path like profile.tier (no "$", no empty segment)';
/** A MongoDB field path (`profile.tier`). */
export const FieldPath = z.string().regex(mongoFieldPathPattern, fieldPathMessage);

/** A `set` value: a literal, or `$field` to copy another field of the same document. */
export const SetValue = z.union([
  z.string().max(4000).refine((value) => !value.startsWith('$') || mongoFieldPathPattern.test(value.slice(1)),
    'a value starting with "$" must reference a field, like "$name"'),
  z.number(), z.boolean(), z.null(),
  z.array(z.unknown()), z.record(z.string().regex(/^[^$]/, 'literal objects must not use "$" operators'), z.unknown()),
]);
export type SetValue = z.infer<typeof SetValue>;

const forbiddenQueryOperators = ['$where', '$function', '$accumulator', '$expr'];
/** A query filter from the catalog; server-side JavaScript and expressions are refused. */
export const MongoFilter = z.record(z.string(), z.unknown()).superRefine((filter, context) => {
  const text = JSON.stringify(filter);
  for (const operator of forbiddenQueryOperators) {
    if (text.includes(`"${operator}"`)) context.addIssue({ code: 'custom', message: `must not use ${operator}` });
  }
});

/** A transform module's file name: in the catalog folder itself (no path), JavaScript. */
export const transformModulePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.m?js$/;

/** A MongoDB migration: `_id` key, declarative set/rename/unset or a transform module. */
export const MongoMigrationFile = z.strictObject({
  ...Header,
  store: z.literal('mongodb'),
  database: z.string().regex(mongoNamePattern, 'must be a database name').optional(),
  collection: z.string().regex(mongoNamePattern, 'must be a collection name like customers'),
  key: z.literal('_id').default('_id'),
  marker: z.union([
    z.strictObject({ field: FieldPath, from: MarkerValue, to: MarkerValue }),
    z.strictObject({ guard: MongoFilter }),
  ]),
  expand: z.strictObject({
    createIndexes: z.array(z.strictObject({ name: z.string().regex(mongoNamePattern), keys: recordWithKeys(mongoFieldPathPattern, fieldPathMessage, z.union([z.literal(1), z.literal(-1)])) })).default([]),
  }).default({ createIndexes: [] }),
  backfill: z.strictObject({
    set: recordWithKeys(mongoFieldPathPattern, fieldPathMessage, SetValue).default({}),
    rename: recordWithKeys(mongoFieldPathPattern, fieldPathMessage, FieldPath).default({}),
    unset: z.array(FieldPath).default([]),
    /** A module next to the migration file exporting `transform(doc)`: returns the migrated document. */
    transform: z.string().regex(transformModulePattern, 'must name a module file in the catalog folder, like customers-profile.transform.mjs').optional(),
  }),
  down: z.strictObject({
    restore: z.literal('backup').default('backup'),
    conflicts: ConflictRule,
    /** The reverse backfill for documents the new version created (marker at `to`, not in the backup): same forms as `backfill`. */
    set: recordWithKeys(mongoFieldPathPattern, fieldPathMessage, SetValue).default({}),
    rename: recordWithKeys(mongoFieldPathPattern, fieldPathMessage, FieldPath).default({}),
    unset: z.array(FieldPath).default([]),
    transform: z.string().regex(transformModulePattern, 'must name a module file in the catalog folder, like customers-profile.down.mjs').optional(),
  }).default({ restore: 'backup', conflicts: 'keep-current', set: {}, rename: {}, unset: [] }),
  contract: z.strictObject({
    unset: z.array(FieldPath).default([]),
    dropIndexes: z.array(z.string().regex(mongoNamePattern)).default([]),
  }).default({ unset: [], dropIndexes: [] }),
  invariants: z.array(z.strictObject({ name: z.string().min(1).max(200), filter: MongoFilter, expect: z.int().min(0).default(0) })).default([]),
});
export type MongoMigrationFile = z.infer<typeof MongoMigrationFile>;

/** Any migration file, told apart by `store`. */
export const MigrationFile = z.discriminatedUnion('store', [PostgresMigrationFile, MongoMigrationFile]);
export type MigrationFile = z.infer<typeof MigrationFile>;
