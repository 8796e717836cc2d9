/**
 * A pinned catalog through the real handlers on one control store (plan, migrate-shard, verify as
 * Knative runs them), real PostgreSQL, FerretDB and a kwok cluster: plan records each migration's
 * catalog checksum in the run plan; when the entry changes before its shards run (its YAML, or its
 * transform module) a migrate-shard that loaded the changed catalog fails every shard naming the entry
 * and both checksums and changes no row or document, and verify's checks refuse the changed entry so the
 * failure policy applies. A migrate-shard that loaded the planned catalog runs the planned transform
 * even when the module file is edited under it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BSON, MongoClient } from 'mongodb';
import pg from 'pg';
import { decode, isEventOf, uuidv7, type AnyUpshiftEvent, type EventData } from '@upshift/events';
import { loadCatalog, migrationByRef } from '@upshift/migrations';
import { createPool, loadPlan, MemoryTransport, readRunFacts, type FunctionModule, type HandleResult } from '@upshift/runtime';
import planFn from '../../plan/src/index.ts';
import verifyFn from '../../verify/src/index.ts';
import shardFn from '../src/index.ts';
import { migratedOrdersChecksum, seedOrders } from './support.ts';
import { fixtureEvent, outputIds, useStackKubeconfig } from '../../../test/support/handler.ts';
import { deploy, deployment, freshNamespace } from '../../../test/support/kube.ts';
import { freshDatabase, functionEnv, stackEnv, uniqueSuffix } from '../../../runtime/test/support/stack.ts';

const env = stackEnv();
const mongoUrl = process.env.MONGODB_URL ?? env['MONGODB_URL'] ?? 'mongodb://127.0.0.1:27117/';
const mongoDb = `pin_${uniqueSuffix()}`;
const catalogDir = mkdtempSync(join(tmpdir(), 'upshift-pinned-catalog-'));
const services = ['orders', 'customers', 'members'];
const transport = new MemoryTransport();

let control: Awaited<ReturnType<typeof freshDatabase>>;
let shopDb: Awaited<ReturnType<typeof freshDatabase>>;
let store: ReturnType<typeof createPool>;
let shop: pg.Client;
let mongo: MongoClient;
let ns: Awaited<ReturnType<typeof freshNamespace>>;
let functionEnvironment: Record<string, string>;
/** The catalog as plan loads it at start (every test plans against it). */
let initialCatalog: ReturnType<typeof loadCatalog>;

const tierModule = (tier: string) => `export function transform(doc) {\n  return { ...doc, tier: '${tier}' };\n}\n`;
const tierMigration = (collection: string) => `apiVersion: upshift.dev/v1alpha1
kind: Migration
name: ${collection}-tier
version: 1
store: mongodb
connection: PIN_MONGODB_URL
database: ${mongoDb}
collection: ${collection}
marker: { field: schemaVersion, from: 1, to: 2 }
backfill:
  transform: ${collection}-tier.transform.mjs
`;

before(async () => {
  useStackKubeconfig();
  ns = await freshNamespace('pinned');
  await deploy('upshift-a', ns.name, services.map((s) => deployment(s, `registry.local/shop/${s}:1.0.0`, { replicas: 1 })));
  shopDb = await freshDatabase(env);
  shop = new pg.Client({ connectionString: shopDb.url });
  await shop.connect();
  await seedOrders(shop, 300);
  mongo = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 10_000 });
  for (const collection of ['customers', 'members']) {
    await mongo.db(mongoDb).collection<{ _id: string }>(collection).insertMany(
      Array.from({ length: 60 }, (_, i) => ({ _id: `${collection}-${String(i).padStart(3, '0')}`, name: `N ${i}`, schemaVersion: 1 })));
  }
  writeFileSync(join(catalogDir, 'orders-currency@1.yaml'), readFileSync(fileURLToPath(new URL('../../../examples/catalog/orders-currency@1.yaml', import.meta.url))));
  for (const collection of ['customers', 'members']) {
    writeFileSync(join(catalogDir, `${collection}-tier@1.yaml`), tierMigration(collection));
    writeFileSync(join(catalogDir, `${collection}-tier.transform.mjs`), tierModule('gold'));
  }
  initialCatalog = loadCatalog(catalogDir);
  control = await freshDatabase(env);
  functionEnvironment = functionEnv(env, control.url, 'mem.', {
    LOG_LEVEL: 'error', RELAY_POLL_MS: '100', UPSHIFT_CATALOG_DIR: catalogDir, SHOP_DATABASE_URL: shopDb.url, PIN_MONGODB_URL: mongoUrl,
  });
  await planFn.init({ env: functionEnvironment, publisher: transport });
  await shardFn.init({ env: functionEnvironment, publisher: transport });
  store = createPool(control.url, { max: 2, applicationName: 'upshift-pinned-catalog-test' });
});

after(async () => {
  await Promise.allSettled([planFn.shutdown(), shardFn.shutdown(), verifyFn.shutdown()]);
  await store?.end();
  await control?.drop();
  await shop?.end();
  await shopDb?.drop();
  await mongo?.db(mongoDb).dropDatabase().catch(() => undefined);
  await mongo?.close();
  await ns?.remove();
  rmSync(catalogDir, { recursive: true, force: true });
});

/** Handles `event` with `fn` (200, handled) and returns what it emitted, read from the shared outbox. */
async function handled(fn: FunctionModule, event: unknown): Promise<AnyUpshiftEvent[]> {
  const result: HandleResult = await fn.handle({}, event);
  assert.equal(result.statusCode, 200, JSON.stringify(result.body));
  const ids = outputIds(result);
  const { rows } = await store.query<{ id: string; event: unknown }>('SELECT id, event FROM upshift.outbox WHERE id = ANY($1::text[])', [ids]);
  const byId = new Map(rows.map((row) => [row.id, decode(row.event)]));
  return ids.map((id) => byId.get(id) ?? assert.fail(`output ${id} is not in the outbox`));
}

/** migrate-shard restarted (a new pod): it loads the catalog folder as it is now. */
async function restartMigrateShard(): Promise<void> {
  await shardFn.shutdown();
  await shardFn.init({ env: functionEnvironment, publisher: transport });
}

/** The fixture request for one service of this test's namespace and one migration after it; failures freeze. */
function upgradeRequested(runId: string, service: string, ref: string) {
  return fixtureEvent('upgrade.requested', (data): EventData<'upgrade.requested'> => {
    const policy = data.policy as unknown as { metadata: { name: string }; spec: Record<string, unknown> & { strategy: Record<string, unknown> } };
    policy.metadata.name = `pinned-${service}-${ns.name}`;
    Object.assign(policy.spec, {
      clusters: [{ name: 'upshift-a', context: 'upshift-a' }],
      services: [{ name: service, clusters: ['upshift-a'], namespace: ns.name, workload: { kind: 'Deployment', name: service }, container: 'app', image: `registry.local/shop/${service}:2.0.0`, dependsOn: [] }],
      migrations: [{ ref, shards: 2, batchSize: 50, backup: true, after: [service] }],
      strategy: { ...policy.spec.strategy, clusterOrder: ['upshift-a'], failurePolicy: 'freeze' },
      verification: { checks: [{ name: 'no-old-version', kind: 'noOldVersion' }, { name: 'invariants', kind: 'invariants' }] },
    });
    return { ...data, runId };
  });
}

/**
 * plan plans the run (the checksum of `ref` as plan loaded it recorded in the stored plan, never in an
 * event), then migrate-shard expands and fans out; returns the planned checksum and the `shard.requested` events.
 */
async function planAndFanOut(runId: string, service: string, ref: string) {
  const [planned, expand, ...rest] = await handled(planFn, upgradeRequested(runId, service, ref));
  assert.ok(planned && isEventOf(planned, 'upgrade.planned'), `${planned?.type}: ${JSON.stringify(planned?.data)}`);
  assert.deepEqual(rest, []);
  const checksum = migrationByRef(initialCatalog, ref).checksum;
  const plan = await loadPlan(store, runId);
  assert.deepEqual(plan?.migrations.map((m) => [m.ref, m.checksum]), [[ref, checksum]], 'the plan pins the entry plan saw');
  assert.ok(planned.data.migrations.every((m) => !('checksum' in m)), 'events name migrations only');
  assert.ok(expand && isEventOf(expand, 'migration.expand.requested'), expand?.type);
  const [expanded] = await handled(shardFn, expand);
  assert.ok(expanded && isEventOf(expanded, 'migration.expand.done'), `${expanded?.type}: ${JSON.stringify(expanded?.data)}`);
  const requested = fixtureEvent('migration.requested', (data) => ({ ...data, runId, migrations: plan?.migrations ?? [] }));
  const requests = await handled(shardFn, requested);
  assert.equal(requests.length, 2, JSON.stringify(requests.map((e) => e.type)));
  return { checksum, requests: requests.map((e) => (isEventOf(e, 'shard.requested') ? e : assert.fail(`${e.type}: ${JSON.stringify(e.data)}`))) };
}

/** Every document of `collection` as canonical Extended JSON, in `_id` order. */
async function documents(collection: string): Promise<string> {
  return BSON.EJSON.stringify(await mongo.db(mongoDb).collection(collection).find({}).sort({ _id: 1 }).toArray(), { relaxed: false });
}

/** Handles each request with the restarted migrate-shard; each must fail naming the entry and both checksums. */
async function expectRefused(requests: AnyUpshiftEvent[], ref: string, planned: string, now: string): Promise<void> {
  const message = `catalog entry ${ref} changed since the run was planned (planned ${planned}, now ${now})`;
  for (const request of requests) {
    const [failed, ...rest] = await handled(shardFn, request);
    assert.deepEqual(rest, []);
    assert.ok(failed && isEventOf(failed, 'shard.failed'), `${failed?.type}: ${JSON.stringify(failed?.data)}`);
    assert.ok(failed.data.reason.includes(message), failed.data.reason);
    assert.equal(failed.data.rowsMigrated, 0);
  }
}

test('a catalog YAML changed between plan and migrate-shard fails every shard naming both checksums; no row changes; verify refuses it too', { timeout: 60_000 }, async () => {
  const runId = uuidv7();
  const ref = 'orders-currency@1';
  const yaml = join(catalogDir, `${ref}.yaml`);
  const { checksum, requests } = await planAndFanOut(runId, 'orders', ref);
  const rowsBefore = await migratedOrdersChecksum(shop);

  writeFileSync(yaml, readFileSync(yaml, 'utf8').replace("coalesce(currency, 'EUR')", "coalesce(currency, 'USD')"));
  const now = migrationByRef(loadCatalog(catalogDir), ref).checksum;
  assert.notEqual(now, checksum);
  await restartMigrateShard();
  await expectRefused(requests, ref, checksum, now);
  assert.equal(await migratedOrdersChecksum(shop), rowsBefore, 'no row changed');
  const { rows } = await shop.query<{ n: number }>('SELECT count(*)::int AS n FROM orders WHERE schema_version = 1');
  assert.equal(rows[0]?.n, 300);

  await verifyFn.init({ env: functionEnvironment, publisher: transport });
  const [results, ended, ...more] = await handled(verifyFn, fixtureEvent('verify.requested', (data) => ({ ...data, runId })));
  assert.deepEqual(more, []);
  assert.ok(results && isEventOf(results, 'verify.results'), results?.type);
  assert.equal(results.data.passed, false);
  for (const check of results.data.checks) {
    assert.equal(check.passed, false, check.name);
    assert.ok(check.message.includes(`catalog entry ${ref} changed since the run was planned (planned ${checksum}, now ${now})`), check.message);
  }
  assert.ok(ended && isEventOf(ended, 'upgrade.failed'), `the failure policy (freeze) applies: ${ended?.type}`);
  assert.equal((await readRunFacts(store, runId))?.status, 'failed');
});

test('a transform module changed between plan and migrate-shard fails every shard naming both checksums; no document changes', { timeout: 60_000 }, async () => {
  const runId = uuidv7();
  const ref = 'customers-tier@1';
  const { checksum, requests } = await planAndFanOut(runId, 'customers', ref);
  const before = await documents('customers');

  writeFileSync(join(catalogDir, 'customers-tier.transform.mjs'), tierModule('unplanned'));
  const now = migrationByRef(loadCatalog(catalogDir), ref).checksum;
  assert.notEqual(now, checksum);
  await restartMigrateShard();
  await expectRefused(requests, ref, checksum, now);
  assert.equal(await documents('customers'), before, 'no document changed');
});

test('a migrate-shard that loaded the planned catalog runs the planned transform even when the module file changes under it', { timeout: 60_000 }, async () => {
  await restartMigrateShard();
  const runId = uuidv7();
  const ref = 'members-tier@1';
  // plan and migrate-shard both loaded the module's text already; nothing in this process imported it
  // yet, so a module imported by its path (rather than by the text read at load) would run this edit.
  writeFileSync(join(catalogDir, 'members-tier.transform.mjs'), tierModule('unplanned'));
  const { requests } = await planAndFanOut(runId, 'members', ref);
  let migrated = 0;
  for (const request of requests) {
    const [completed, ...rest] = await handled(shardFn, request);
    assert.deepEqual(rest, []);
    assert.ok(completed && isEventOf(completed, 'shard.completed'), `${completed?.type}: ${JSON.stringify(completed?.data)}`);
    migrated += completed.data.rowsMigrated;
  }
  assert.equal(migrated, 60);
  const tiers = await mongo.db(mongoDb).collection('members').distinct('tier');
  assert.deepEqual(tiers, ['gold'], 'every document as the planned module says, none as the edited file says');
});
