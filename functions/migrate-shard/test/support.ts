/**
 * Test support of migrate-shard: the function under `upshift dev` against a fresh control store, topic
 * prefix, target PostgreSQL database and MongoDB database; a catalog copied from examples/catalog
 * pointing at them; small seeded data with checksums computed independently of the engines.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { derivedId, entryFor, type AnyUpshiftEvent, type EventData, type EventName, type FunctionName } from '@upshift/events';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { cliEvent, publishEvents } from '../../../runtime/test/support/publish.ts';
import { collect, freshDatabase, stackEnv, uniqueSuffix, type Collector } from '../../../runtime/test/support/stack.ts';
import { startFunction, type FunctionUnderTest } from '../../../test/support/handler.ts';
import { startHarness, type Harness, type HarnessDevOptions } from '../../../test/support/run.ts';
import migrateShard from '../src/index.ts';

const exampleCatalog = fileURLToPath(new URL('../../../examples/catalog/', import.meta.url));

/** A running migrate-shard with its stores. */
export interface ShardTest {
  harness: Harness;
  shop: pg.Client;
  shopUrl: string;
  mongo: MongoClient;
  mongoDb: string;
  /** Events consumed by verify (shard.completed/failed, shard.restore.done). */
  verify: Collector;
  /** Events on migrate-shard's own topic (shard.requested and its continuations). */
  work: Collector;
  control: pg.Client;
  publish<N extends EventName>(name: N, data: EventData<N>, id?: string): Promise<AnyUpshiftEvent>;
  /** Creates a run row (the control store's steps reference it). */
  startRun(runId?: string): Promise<string>;
  typesOf(collector: Collector, name: EventName, runId: string): AnyUpshiftEvent[];
  waitForCount(collector: Collector, name: EventName, runId: string, count: number, timeoutMs?: number): Promise<AnyUpshiftEvent[]>;
  stop(): Promise<void>;
}

/** Starts migrate-shard (or the given functions) with `extraEnv` (process mode for crash tests), on `kafkaBrokers` if given. */
export async function startShardTest(options: { extraEnv?: Record<string, string>; mode?: 'inline' | 'process'; functions?: FunctionName[]; duplicate?: boolean; dev?: HarnessDevOptions; kafkaBrokers?: string } = {}): Promise<ShardTest> {
  const suffix = uniqueSuffix();
  const mongoDb = `ms_${suffix}`;
  const catalogDir = mkdtempSync(join(tmpdir(), 'upshift-ms-catalog-'));
  writeFileSync(join(catalogDir, 'orders-currency@1.yaml'), readFileSync(join(exampleCatalog, 'orders-currency@1.yaml')));
  writeFileSync(join(catalogDir, 'customers-profile@1.yaml'), readFileSync(join(exampleCatalog, 'customers-profile@1.yaml'), 'utf8').replace(/^database: crm$/m, `database: ${mongoDb}`));
  const { stackEnv } = await import('../../../runtime/test/support/stack.ts');
  const env = stackEnv();
  const shopDb = await freshDatabase(env);
  const mongoUrl = process.env.MONGODB_URL ?? 'mongodb://127.0.0.1:27117/';
  const harness = await startHarness(options.functions ?? ['migrate-shard'], {
    mode: options.mode ?? 'inline', duplicate: options.duplicate ?? false, ...(options.dev ? { dev: options.dev } : {}),
    ...(options.kafkaBrokers ? { kafkaBrokers: options.kafkaBrokers } : {}),
    extraEnv: { LOG_LEVEL: 'error', UPSHIFT_CATALOG_DIR: catalogDir, SHOP_DATABASE_URL: shopDb.url, CRM_MONGODB_URL: mongoUrl, UPSHIFT_SHARD_LEASE_TTL_MS: '4000', ...options.extraEnv },
  });
  const shop = new pg.Client({ connectionString: shopDb.url });
  await shop.connect();
  const control = new pg.Client({ connectionString: harness.databaseUrl });
  await control.connect();
  const mongo = new MongoClient(mongoUrl);
  await mongo.connect();
  const verify = await collect(harness.env, `${harness.prefix}upshift.verify`);
  const work = await collect(harness.env, `${harness.prefix}upshift.migrate-shard`);
  const runIdOf = (e: AnyUpshiftEvent) => (e.data as { runId?: string }).runId;
  const typesOf = (collector: Collector, name: EventName, runId: string) => collector.events().filter((e) => e.type === entryFor(name).type && runIdOf(e) === runId);
  return {
    harness, shop, shopUrl: shopDb.url, mongo, mongoDb, verify, work, control, typesOf,
    async publish(name, data, id) {
      const event = cliEvent(name, data, id);
      await publishEvents(harness.env, harness.prefix, [event]);
      return event;
    },
    async startRun(runId = `run-${uniqueSuffix()}`) {
      await control.query(`INSERT INTO upshift.runs (id, status) VALUES ($1, 'running')`, [runId]);
      return runId;
    },
    async waitForCount(collector, name, runId, count, timeoutMs = 90_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = typesOf(collector, name, runId);
        if (found.length >= count) return found;
        if (Date.now() > deadline) throw new Error(`only ${found.length} of ${count} ${name} for ${runId} within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async stop() {
      await verify.stop();
      await work.stop();
      await control.end();
      await shop.end();
      await harness.stop();
      await mongo.db(mongoDb).dropDatabase().catch(() => undefined);
      await mongo.close();
      await shopDb.drop();
      rmSync(catalogDir, { recursive: true, force: true });
    },
  };
}

/** Seeds `orders` (the example catalog's shape) with `rows` rows at schema_version 1; some amounts NULL. */
export async function seedOrders(shop: pg.Client, rows: number): Promise<void> {
  await shop.query(`CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL, amount numeric(12,2), note text,
    schema_version integer NOT NULL DEFAULT 1)`);
  await shop.query(`INSERT INTO orders SELECT g, g % 500, CASE WHEN g % 97 = 0 THEN NULL ELSE ((g * 7919) % 100000) / 100.0 END, 'order ' || g, 1
    FROM generate_series(1, $1::integer) g`, [rows]);
  await shop.query('ANALYZE orders');
}

/** md5 of the rows as they are now (pre-migration columns only): equal before and after a restore. */
export async function ordersChecksum(shop: pg.Client): Promise<string> {
  const { rows } = await shop.query<{ sum: string }>(`SELECT md5(coalesce(string_agg(concat_ws('|', id, customer_id, amount, note, schema_version), ',' ORDER BY id), '')) AS sum FROM orders`);
  return rows[0]?.sum ?? '';
}

/** md5 of what the catalog's backfill should produce, computed from the unmigrated rows in SQL of the test's own. */
export async function expectedOrdersChecksum(shop: pg.Client): Promise<string> {
  const { rows } = await shop.query<{ sum: string }>(`SELECT md5(coalesce(string_agg(concat_ws('|', id, amount, (round(coalesce(amount, 0) * 100))::bigint, 'EUR', 2), ',' ORDER BY id), '')) AS sum FROM orders`);
  return rows[0]?.sum ?? '';
}

/** md5 of the migrated columns as they are. */
export async function migratedOrdersChecksum(shop: pg.Client): Promise<string> {
  const { rows } = await shop.query<{ sum: string }>(`SELECT md5(coalesce(string_agg(concat_ws('|', id, amount, amount_minor, currency, schema_version), ',' ORDER BY id), '')) AS sum FROM orders`);
  return rows[0]?.sum ?? '';
}

/** Seeds `customers` with `count` documents at schemaVersion 1. */
export async function seedCustomers(mongo: MongoClient, database: string, count: number): Promise<void> {
  const docs = Array.from({ length: count }, (_, i) => ({ _id: `c${String(i).padStart(6, '0')}`, name: `Customer ${i}`, phone: `+49 30 ${100000 + i}`, legacyFlags: [i % 3], schemaVersion: 1 }));
  await mongo.db(database).collection<{ _id: string }>('customers').insertMany(docs);
}

/** sha256 over the documents in _id order, as canonical JSON. */
export async function customersChecksum(mongo: MongoClient, database: string, project: (doc: Record<string, unknown>) => unknown = (doc) => doc): Promise<string> {
  const docs = await mongo.db(database).collection('customers').find({}).sort({ _id: 1 }).toArray();
  return createHash('sha256').update(JSON.stringify(docs.map((doc) => project(doc as Record<string, unknown>)))).digest('hex');
}

/** The catalog's customers-profile@1 backfill, restated independently: what a migrated document must be. */
export function expectedCustomer(doc: Record<string, unknown>): unknown {
  const { phone, legacyFlags: _flags, name, ...rest } = doc;
  return { ...rest, name, profile: { phone, displayName: name, tier: 'standard' }, schemaVersion: 2 };
}

/** A document in a canonical key order (the server may reorder fields). */
export function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') return Object.fromEntries(Object.keys(value).sort().map((key) => [key, canonical((value as Record<string, unknown>)[key])]));
  return value;
}

/** A deterministic id for a test's own duplicate deliveries. */
export function testEventId(...parts: string[]): string {
  return derivedId('test', ...parts);
}

/** migrate-shard's handler over the example catalog's `orders-currency@1` and a fresh shop database of `rows` orders. */
export interface HandlerWithShop {
  readonly t: FunctionUnderTest;
  readonly shop: pg.Client;
  readonly shopUrl: string;
  stop(): Promise<void>;
}

/** Starts migrate-shard's handler (as Knative runs it) on a fresh shop database seeded with `rows` orders. */
export async function startHandlerWithShop(rows: number): Promise<HandlerWithShop> {
  const ref = 'orders-currency@1';
  const catalogDir = mkdtempSync(join(tmpdir(), 'upshift-ms-handler-catalog-'));
  writeFileSync(join(catalogDir, `${ref}.yaml`), readFileSync(fileURLToPath(new URL(`../../../examples/catalog/${ref}.yaml`, import.meta.url))));
  const shopDb = await freshDatabase(stackEnv());
  const shop = new pg.Client({ connectionString: shopDb.url });
  await shop.connect();
  await seedOrders(shop, rows);
  const t = await startFunction(migrateShard, { UPSHIFT_CATALOG_DIR: catalogDir, SHOP_DATABASE_URL: shopDb.url });
  return {
    t, shop, shopUrl: shopDb.url,
    async stop() {
      await t.stop();
      await shop.end();
      await shopDb.drop();
      rmSync(catalogDir, { recursive: true, force: true });
    },
  };
}
