/**
 * The demo's sample data, seeded fast and checksummed independently of upshift's engines: PostgreSQL
 * `orders` (generate_series, one statement) and MongoDB `customers` (insertMany in batches), at the old
 * version marker the catalog migrations expect (schema_version 1 / schemaVersion 1).
 */
import { createHash } from 'node:crypto';
import { BSON, MongoClient, type Document } from 'mongodb';
import pg from 'pg';

/** Where the demo's data lives (the catalog names the collection and the table). */
export const demoData = { postgresDatabase: 'shop', table: 'orders', mongoDatabase: 'crm', collection: 'customers' } as const;

/** The URL of `database` on the server of `adminUrl`. */
export function databaseUrl(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: 'upshift-demo' });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Creates the database when missing (idempotent). */
export async function ensureDatabase(adminUrl: string, database: string): Promise<string> {
  await withClient(adminUrl, async (admin) => {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
  });
  return databaseUrl(adminUrl, database);
}

/**
 * (Re)creates `orders` with `rows` rows at schema_version 1 in one INSERT … SELECT generate_series, and
 * drops what earlier runs left (the expand columns and upshift's backup tables go with the table/schema).
 */
export async function seedOrders(url: string, rows: number, table: string = demoData.table): Promise<void> {
  await withClient(url, async (client) => {
    const t = pg.escapeIdentifier(table);
    await client.query(`DROP TABLE IF EXISTS ${t}`);
    await client.query('DROP SCHEMA IF EXISTS upshift_backup CASCADE');
    await client.query(`CREATE TABLE ${t} (
      id bigint PRIMARY KEY, customer_id bigint NOT NULL, amount numeric(12,2), note text,
      created_at timestamptz NOT NULL, schema_version integer NOT NULL DEFAULT 1)`);
    await client.query(`INSERT INTO ${t}
      SELECT g, g % 5000, CASE WHEN g % 97 = 0 THEN NULL ELSE ((g * 7919) % 100000) / 100.0 END,
             'order ' || g, timestamptz '2026-01-01' + g * interval '1 minute', 1
        FROM generate_series(1, $1::integer) g`, [rows]);
    await client.query(`ANALYZE ${t}`);
  });
}

/** A checksum of a data set and how many of its rows are at each version marker. */
export interface DataChecksum {
  readonly count: number;
  readonly digest: string;
  readonly versions: Readonly<Record<string, number>>;
}

/**
 * md5 over the seeded columns of every row in key order, computed in SQL. Columns that `expand` adds are
 * left out on purpose: they are additive and stay (empty) after a rollback, by design.
 */
export async function ordersChecksum(url: string, table: string = demoData.table): Promise<DataChecksum> {
  return withClient(url, async (client) => {
    const t = pg.escapeIdentifier(table);
    const sum = await client.query<{ count: string; md5: string }>(
      `SELECT count(*) AS count, md5(coalesce(string_agg(concat_ws(',', id, customer_id, amount, note, created_at, schema_version), '|' ORDER BY id), '')) AS md5 FROM ${t}`);
    const versions = await client.query<{ v: string; n: string }>(`SELECT schema_version::text AS v, count(*) AS n FROM ${t} GROUP BY 1 ORDER BY 1`);
    return { count: Number(sum.rows[0]?.count ?? 0), digest: sum.rows[0]?.md5 ?? '', versions: Object.fromEntries(versions.rows.map((r) => [r.v, Number(r.n)])) };
  });
}

/**
 * One customer document at the old version (flat phone, legacy flags on some). `_id`s are strings
 * (`c0000042`), as many CRMs key customers: the stack's FerretDB finds a document through its `_id`
 * index only for string and ObjectId `_id`s.
 */
export function customerDocument(index: number): Document {
  const doc: Document = { _id: `c${String(index).padStart(7, '0')}`, name: `Customer ${index}`, email: `c${index}@example.com`, schemaVersion: 1 };
  if (index % 10 !== 0) doc.phone = `+49 30 ${1000 + index}`;
  if (index % 3 === 0) doc.legacyFlags = ['vip', index];
  return doc;
}

async function withMongo<T>(url: string, work: (client: MongoClient) => Promise<T>): Promise<T> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 10_000 });
  try {
    return await work(client);
  } finally {
    await client.close();
  }
}

/** Drops and refills the collection with `documents` customers, `batch` per insertMany; drops upshift's backups of it. */
export async function seedCustomers(url: string, documents: number, options: { database?: string; collection?: string; batch?: number } = {}): Promise<void> {
  await withMongo(url, async (client) => {
    const db = client.db(options.database ?? demoData.mongoDatabase);
    const name = options.collection ?? demoData.collection;
    // The collection and every backup of it (and their owners), like seedOrders drops the backup schema:
    // a re-run of the demo starts from fresh data, never from an earlier run's pre-images.
    const existing = (await db.listCollections({}, { nameOnly: true }).toArray()).map((info) => info.name);
    for (const stale of existing.filter((collection) => collection === name || collection.startsWith('upshift_backup'))) await db.collection(stale).drop();
    const collection = db.collection(name);
    const batch = options.batch ?? 5000;
    for (let start = 1; start <= documents; start += batch) {
      const docs = Array.from({ length: Math.min(batch, documents - start + 1) }, (_, i) => customerDocument(start + i));
      await collection.insertMany(docs, { ordered: false });
    }
  });
}

/** Per document, in `_id` order: the sha256 of its canonical Extended JSON (keys sorted) and its version marker. */
export type CustomerDigests = ReadonlyMap<string, { readonly digest: string; readonly version: string }>;

/** Reads every customer's digest, computed in JavaScript (independently of upshift's engines). */
export async function customerDigests(url: string, options: { database?: string; collection?: string } = {}): Promise<CustomerDigests> {
  return withMongo(url, async (client) => {
    const collection = client.db(options.database ?? demoData.mongoDatabase).collection(options.collection ?? demoData.collection);
    const digests = new Map<string, { digest: string; version: string }>();
    for await (const doc of collection.find({}).sort({ _id: 1 })) {
      const digest = createHash('sha256').update(BSON.EJSON.stringify(sortKeys(doc), { relaxed: false })).digest('hex');
      digests.set(BSON.EJSON.stringify(doc._id, { relaxed: false }), { digest, version: String(doc.schemaVersion ?? 'none') });
    }
    return digests;
  });
}

/** sha256 over the digests in `_id` order, leaving out `exclude` (e.g. the documents the application wrote). */
export function checksumOfDigests(digests: CustomerDigests, exclude: ReadonlySet<string> = new Set()): DataChecksum {
  const hash = createHash('sha256');
  const versions: Record<string, number> = {};
  let count = 0;
  for (const [id, { digest, version }] of digests) {
    if (exclude.has(id)) continue;
    hash.update(`${id}\t${digest}\n`);
    versions[version] = (versions[version] ?? 0) + 1;
    count += 1;
  }
  return { count, digest: hash.digest('hex').slice(0, 32), versions };
}

/** sha256 over every document in `_id` order as canonical Extended JSON, computed in JavaScript. */
export async function customersChecksum(url: string, options: { database?: string; collection?: string } = {}): Promise<DataChecksum> {
  return checksumOfDigests(await customerDigests(url, options));
}

/** A document with its keys sorted (FerretDB and MongoDB may order fields differently after an update). */
function sortKeys(doc: Document): Document {
  return Object.fromEntries(Object.keys(doc).sort().map((k) => [k, doc[k]]));
}
