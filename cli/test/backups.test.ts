/**
 * `upshift backups list|drop` against the stack's real PostgreSQL and FerretDB: backups made by the
 * migration engines themselves (expand + one batch with backup) in a fresh database and a MongoDB
 * database of this test, a catalog pointing at them, and runs in a fresh control store.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { openEngine, loadCatalog, type Migration } from '@upshift/migrations';
import { uniqueSuffix } from '../../runtime/test/support/stack.ts';
import { seedCustomers, seedOrders } from '../src/demo/data.ts';
import { freshControlStore, type TestStore } from './support/control-store.ts';
import { upshift, type Outcome } from './support/run.ts';

const needsStack = process.env.POSTGRES_ADMIN_URL && process.env.MONGODB_URL ? false : 'POSTGRES_ADMIN_URL / MONGODB_URL not set: run through npm test';
const repo = new URL('../../', import.meta.url).pathname;
const bin = join(repo, 'cli/bin/upshift.js');
const runId = 'run-backups-1';
const mongoDatabase = `cli_backups_${uniqueSuffix()}`;
const catalogDir = mkdtempSync(join(tmpdir(), 'upshift-backups-catalog-'));
let store: TestStore;
let env: NodeJS.ProcessEnv;

/** The example catalog, its stores pointed at this test's database (PostgreSQL) and MongoDB database. */
function writeCatalog(): void {
  for (const file of ['orders-currency@1.yaml', 'customers-profile@1.yaml']) {
    const text = readFileSync(join(repo, 'examples/catalog', file), 'utf8')
      .replace('connection: SHOP_DATABASE_URL', 'connection: BACKUPS_TEST_PG_URL')
      .replace('connection: CRM_MONGODB_URL', 'connection: BACKUPS_TEST_MONGO_URL')
      .replace('database: crm', `database: ${mongoDatabase}`);
    writeFileSync(join(catalogDir, file), text);
  }
}

/** Backs up a few rows the way a run does: expand (claims the backup for the run), then one batch. */
async function backUpOneBatch(migration: Migration): Promise<void> {
  const engine = openEngine(migration, env);
  try {
    await engine.expand(runId);
    const [range] = await engine.splitShards(1);
    assert.ok(range);
    await engine.runBatch({ range, after: null, ceiling: await engine.maxKey(range), batchSize: 20, backup: true });
  } finally {
    await engine.close();
  }
}

before(async () => {
  if (needsStack) return;
  store = await freshControlStore();
  writeCatalog();
  env = { ...process.env, BACKUPS_TEST_PG_URL: store.url, BACKUPS_TEST_MONGO_URL: process.env.MONGODB_URL, DATABASE_URL: store.url, UPSHIFT_CATALOG_DIR: catalogDir };
  await seedOrders(store.url, 30);
  await seedCustomers(process.env.MONGODB_URL ?? '', 30, { database: mongoDatabase });
  const catalog = loadCatalog(catalogDir);
  for (const migration of catalog.migrations.values()) await backUpOneBatch(migration);
  await store.pool.query(`INSERT INTO upshift.runs (id, status, request, created_at) VALUES ($1, 'running', '{}', '2026-11-23T10:00:00Z')`, [runId]);
  await store.pool.query(`INSERT INTO upshift.run_targets (run_id, kind, target) VALUES ($1, 'migration', 'orders-currency'), ($1, 'migration', 'customers-profile')`, [runId]);
});

after(async () => {
  await store?.drop();
  if (needsStack) return;
  const mongo = new MongoClient(process.env.MONGODB_URL ?? '');
  await mongo.db(mongoDatabase).dropDatabase().finally(() => mongo.close());
});

function dropWithAnswer(migration: string, answer: string): Outcome {
  const result = spawnSync(process.execPath, [bin, 'backups', 'drop', migration], { env, input: answer, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('backups list shows each store\'s backup: name, rows, size, the run that made it and when it started', { skip: needsStack }, async () => {
  const listed = await upshift(['backups', 'list'], env);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /^MIGRATION +STORE +NAME +ROWS +SIZE +RUN +RUN STATUS +CREATED \(UTC\)$/m);
  assert.match(listed.stdout, /^customers-profile@1 +mongodb +cli_backups_\w+\.upshift_backup__customers__customers-profile__v1 +20 +\S+ (KiB|B) +run-backups-1 +running +2026-11-23 10:00:00$/m);
  assert.match(listed.stdout, /^orders-currency@1 +postgres +upshift_backup\.orders__orders_currency__v1 +20 +\S+ KiB +run-backups-1 +running +2026-11-23 10:00:00$/m);
  const json = await upshift(['backups', 'list', 'orders-currency', '-o', 'json'], env);
  const document = JSON.parse(json.stdout) as { backups: Array<{ migration: string; rows: number; bytes: number; runId: string; created: string }> };
  assert.deepEqual(document.backups.map((b) => [b.migration, b.rows, b.runId, b.created]), [['orders-currency@1', 20, runId, '2026-11-23T10:00:00.000Z']]);
  assert.ok((document.backups[0]?.bytes ?? 0) > 0);
  const unknown = await upshift(['backups', 'list', 'nope@1'], env);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /no migration "nope@1" in the catalog/);
});

test('backups drop refuses while a run needs the backup, asks before dropping, and drops with --yes', { skip: needsStack }, async () => {
  const refused = await upshift(['backups', 'drop', 'orders-currency@1', '--yes'], env);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /refused: not dropping upshift_backup\.orders__orders_currency__v1 .*run run-backups-1 is active on this migration/);
  await store.pool.query(`UPDATE upshift.runs SET status = 'completed', finished_at = now() WHERE id = $1`, [runId]);
  await store.pool.query(`UPDATE upshift.run_targets SET released_at = now() WHERE run_id = $1`, [runId]);
  const declined = dropWithAnswer('customers-profile@1', 'n\n');
  assert.equal(declined.code, 1);
  assert.match(declined.stderr, /drop cli_backups_\w+\.upshift_backup__customers__customers-profile__v1 \(mongodb, 20 rows, run run-backups-1\)\? \[y\/N\]/);
  assert.match(declined.stderr, /not dropped/);
  assert.match((await upshift(['backups', 'list'], env)).stdout, /^customers-profile@1 [^\n]*\n^orders-currency@1 /m, 'declined: both are still there');
  const accepted = dropWithAnswer('customers-profile@1', 'y\n');
  assert.equal(accepted.code, 0, accepted.stderr);
  assert.match(accepted.stdout, /customers-profile@1: dropped/);
  const dropped = await upshift(['backups', 'drop', 'orders-currency', '--yes'], env);
  assert.equal(dropped.code, 0, dropped.stderr);
  assert.match(dropped.stdout, /orders-currency@1: dropped upshift_backup\.orders__orders_currency__v1/);
  const left = await upshift(['backups', 'list'], env);
  assert.deepEqual([left.code, left.stdout], [0, 'no backups\n']);
  const mongo = new MongoClient(process.env.MONGODB_URL ?? '');
  try {
    const owners = await mongo.db(mongoDatabase).collection('upshift_backup_owners').countDocuments({});
    assert.equal(owners, 0, 'the owner record goes with the collection');
  } finally {
    await mongo.close();
  }
});
