/**
 * The demo's reusable parts on the real stack at a small size: seeding PostgreSQL and MongoDB, the
 * independent checksums (equal for equal data, different after any change), and the sample workloads.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { customersChecksum, ensureDatabase, ordersChecksum, seedCustomers, seedOrders } from '../src/demo/data.ts';
import { deploymentOf, previousImage, sampleWorkloads } from '../src/demo/workloads.ts';
import { demoPolicy } from '../src/demo.ts';

const adminUrl = process.env.POSTGRES_ADMIN_URL;
const mongoUrl = process.env.MONGODB_URL;
const needsStack = adminUrl && mongoUrl ? false : 'POSTGRES_ADMIN_URL / MONGODB_URL not set: run through npm test';
const suffix = `${Date.now().toString(36)}${process.pid}`;
const pgDatabase = `upshift_cli_demo_${suffix}`;
const mongoDatabase = `upshift_cli_demo_${suffix}`;
let pgUrl = '';

before(async () => {
  if (needsStack || !adminUrl) return;
  pgUrl = await ensureDatabase(adminUrl, pgDatabase);
  assert.equal(await ensureDatabase(adminUrl, pgDatabase), pgUrl, 'idempotent');
});

after(async () => {
  if (needsStack || !adminUrl || !mongoUrl) return;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${pgDatabase} WITH (FORCE)`);
  await admin.end();
  const mongo = new MongoClient(mongoUrl);
  await mongo.db(mongoDatabase).dropDatabase().finally(() => mongo.close());
});

async function sql(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  await client.query(text).finally(() => client.end());
}

test('orders: seeded at schema_version 1; the checksum is stable, sees a change, and reseeding resets it', { skip: needsStack }, async () => {
  await seedOrders(pgUrl, 3000);
  const first = await ordersChecksum(pgUrl);
  assert.deepEqual([first.count, first.versions], [3000, { 1: 3000 }]);
  assert.match(first.digest, /^[0-9a-f]{32}$/);
  assert.deepEqual(await ordersChecksum(pgUrl), first);
  await sql('ALTER TABLE orders ADD COLUMN amount_minor bigint');
  assert.deepEqual(await ordersChecksum(pgUrl), first, 'an added (expand) column does not change the checksum');
  await sql('UPDATE orders SET amount = amount + 0.01 WHERE id = 1234');
  assert.notEqual((await ordersChecksum(pgUrl)).digest, first.digest);
  await sql('UPDATE orders SET amount = amount - 0.01 WHERE id = 1234');
  assert.equal((await ordersChecksum(pgUrl)).digest, first.digest, 'undoing the change gives the checksum back');
  await sql('UPDATE orders SET schema_version = 2 WHERE id <= 10');
  await seedOrders(pgUrl, 3000);
  assert.deepEqual(await ordersChecksum(pgUrl), first, 'reseeding resets data and drops the expand columns');
});

test('customers: seeded in batches at schemaVersion 1; the checksum is stable and sees a change', { skip: needsStack }, async () => {
  const where = { database: mongoDatabase, collection: 'customers' };
  await seedCustomers(mongoUrl ?? '', 1200, { ...where, batch: 500 });
  const first = await customersChecksum(mongoUrl ?? '', where);
  assert.deepEqual([first.count, first.versions], [1200, { 1: 1200 }]);
  assert.deepEqual(await customersChecksum(mongoUrl ?? '', where), first);
  const client = new MongoClient(mongoUrl ?? '');
  try {
    const collection = client.db(mongoDatabase).collection<{ _id: string; phone?: string }>('customers');
    await collection.updateOne({ _id: 'c0000007' }, { $set: { phone: 'changed' } });
    assert.notEqual((await customersChecksum(mongoUrl ?? '', where)).digest, first.digest);
  } finally {
    await client.close();
  }
  await seedCustomers(mongoUrl ?? '', 1200, { ...where, batch: 500 });
  assert.deepEqual(await customersChecksum(mongoUrl ?? '', where), first, 'reseeding drops and refills the collection');
});

test('sample workloads: every service of the policy in each of its clusters at its previous version', () => {
  const policy = demoPolicy(false, undefined);
  const workloads = sampleWorkloads(policy);
  assert.deepEqual(workloads.map((w) => `${w.name}@${w.cluster}/${w.container}:${w.image}`), [
    'customers@upshift-a/customers:registry.local/shop/customers:1.9.0', 'customers@upshift-b/customers:registry.local/shop/customers:1.9.0',
    'orders@upshift-a/orders:registry.local/shop/orders:3.0.2', 'orders@upshift-b/orders:registry.local/shop/orders:3.0.2',
    'storefront@upshift-a/web:registry.local/shop/storefront:5.3.1', 'storefront@upshift-b/web:registry.local/shop/storefront:5.3.1',
  ]);
  assert.ok(workloads.every((w) => w.namespace === 'shop' && w.replicas >= 2 && w.replicas <= 3));
  assert.equal(previousImage('x', 'registry.local/a/x:2.0.0@sha256:' + 'a'.repeat(64)), 'registry.local/a/x:1.0.0');
  const d = deploymentOf(workloads[0]!, 15);
  assert.deepEqual([d.spec?.progressDeadlineSeconds, d.spec?.template.spec?.containers[0]?.name], [15, 'customers']);
  const failing = demoPolicy(true, 3);
  assert.deepEqual(failing.spec.services.map((s) => s.image.endsWith('-fail')), [false, true, false], 'only orders fails');
  assert.equal(failing.spec.strategy.soakSeconds, 3);
});
