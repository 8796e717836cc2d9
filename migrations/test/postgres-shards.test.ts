/**
 * Shard splitting by sampled quantiles on a real PostgreSQL: balanced within 25 % for skewed bigint
 * keys, uuid keys and text keys, and batches page correctly over each key type.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { imbalance, loadCatalog, migrationByRef, openEngine } from '../src/index.ts';
import { ordersMigrationYaml, writeCatalog } from './helpers/catalog.ts';
import { createTestDatabase, rowsPerRange } from './helpers/postgres.ts';
import type { TestDatabase } from './helpers/postgres.ts';
import { migrateAllShards } from './helpers/shards.ts';

let db: TestDatabase;
const catalog = writeCatalog({
  'skewed@1.yaml': ordersMigrationYaml({ name: 'skewed', table: 'skewed' }),
  'by-uuid@1.yaml': ordersMigrationYaml({ name: 'by-uuid', table: 'by_uuid' }),
  'by-text@1.yaml': ordersMigrationYaml({ name: 'by-text', table: 'by_text' }),
});

const tables: Record<string, { keyType: string; rows: number; keys: string }> = {
  // 90 % of the rows in the first 1 % of a 0..10M key range, the rest spread over the other 99 %.
  skewed: { keyType: 'bigint', rows: 100_000, keys: `SELECT CASE WHEN g <= 90000 THEN g ELSE 100000 + (g - 90000) * 990 END FROM generate_series(1, 100000) g` },
  by_uuid: { keyType: 'uuid', rows: 100_000, keys: `SELECT gen_random_uuid() FROM generate_series(1, 100000)` },
  by_text: { keyType: 'text', rows: 50_000, keys: `SELECT 'customer-' || md5(g::text) FROM generate_series(1, 50000) g` },
};

before(async () => {
  db = await createTestDatabase('shards');
  for (const [table, spec] of Object.entries(tables)) {
    await db.client.query(`CREATE TABLE ${table} (id ${spec.keyType} PRIMARY KEY, amount numeric(12,2), schema_version integer NOT NULL DEFAULT 1)`);
    await db.client.query(`INSERT INTO ${table} (id, amount) SELECT k, 12.34 FROM (${spec.keys}) AS keys(k)`);
    await db.client.query(`ANALYZE ${table}`);
  }
});

after(async () => {
  await db?.drop();
  catalog.remove();
});

for (const [ref, table] of [['skewed@1', 'skewed'], ['by-uuid@1', 'by_uuid'], ['by-text@1', 'by_text']] as const) {
  const spec = tables[table];
  test(`${spec?.keyType} keys (${table}): 8 shards within 25 % of each other, and every row migrated once`, async () => {
    const engine = openEngine(migrationByRef(loadCatalog(catalog.dir), ref), { TEST_DATABASE_URL: db.url });
    try {
      await engine.expand();
      const ranges = await engine.splitShards(8);
      const counts = await rowsPerRange(db, table, ranges);
      process.stdout.write(`# ${table}: rows per shard ${counts.join(' ')} (max/min ${imbalance(counts).toFixed(3)})\n`);
      assert.equal(ranges.length, 8);
      assert.equal(counts.reduce((sum, count) => sum + count, 0), spec?.rows);
      assert.ok(imbalance(counts) <= 1.25, `imbalance ${imbalance(counts)}`);
      const checkpoints = await migrateAllShards(engine, ranges, { batchSize: 2000 });
      assert.equal(checkpoints.reduce((sum, checkpoint) => sum + checkpoint.changed, 0), spec?.rows);
      assert.equal(await engine.countRemaining(), 0);
    } finally {
      await engine.close();
    }
  });
}
