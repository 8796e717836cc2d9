/**
 * An application writing to MongoDB `customers` (the shape of examples/catalog/customers-profile@1)
 * while upshift works: about `perSecond` writes a second, paced from each write's scheduled time, every
 * acknowledged write kept in a ledger (document, field path, value), so a test can check afterwards that
 * each one is still there. Also the seed documents and helpers to compare documents.
 */
import { BSON } from 'mongodb';
import type { Collection, Document } from 'mongodb';

/** One kind of write: a field path set on an existing document, an insert at either version, a delete. */
export type CustomersWrite = 'email' | 'counter' | 'name' | 'phone' | 'profile.phone' | 'profile.tier' | 'insert-v1' | 'insert-v2' | 'delete';

/** One acknowledged write. */
export interface LedgerEntry {
  id: string;
  kind: CustomersWrite;
  /** The value written to the field the kind names; the inserted document for an insert; null for a delete. */
  value: unknown;
  at: number;
}

/** A running writer: its ledger, failures, and a stop that waits for the last write. */
export interface CustomersWriter {
  ledger: LedgerEntry[];
  failures: string[];
  stop(): Promise<void>;
}

/** What to write: the mix of kinds, the documents to pick from, and how inserted documents are named. */
export interface CustomersWriterOptions {
  collection: Collection<Document>;
  perSecond?: number;
  mix: Partial<Record<CustomersWrite, number>>;
  existingId: () => string;
  newId: (sequence: number) => string;
}

/** The seeded customer `index` (string `_id`s sort like the indexes). */
export function customer(index: number): Document {
  const document: Document = { _id: customerId(index), name: `Customer ${index}`, email: `c${index}@example.com`, schemaVersion: 1 };
  if (index % 10 !== 0) document.phone = `+49 30 ${1000 + index}`;
  if (index % 3 === 0) document.legacyFlags = ['vip', index];
  return document;
}

/** The `_id` of seeded customer `index`. */
export function customerId(index: number): string {
  return `c${String(index).padStart(7, '0')}`;
}

/** The migration written out by hand, independently of the engine. */
export function migratedByHand(document: Document): Document {
  const { phone, legacyFlags: _dropped, ...rest } = document;
  const profile: Document = { displayName: document.name, tier: 'standard' };
  if (phone !== undefined) profile.phone = phone;
  return { ...rest, profile, schemaVersion: 2 };
}

/** A document as text, top-level fields in name order, each exact (BSON types, nested order). */
export function fieldwise(document: Document | null | undefined): string {
  if (!document) return 'null';
  return Object.keys(document).sort().map((key) => `${key}=${BSON.EJSON.stringify(document[key], { relaxed: false })}`).join(' ');
}

/** Inserts `count` seeded customers. */
export async function seedCustomers(collection: Collection<Document>, count: number): Promise<Document[]> {
  const documents = Array.from({ length: count }, (_, index) => customer(index + 1));
  for (let start = 0; start < documents.length; start += 5000) await collection.insertMany(documents.slice(start, start + 5000).map((document) => ({ ...document })));
  return documents;
}

/** The document an application inserts: at the old version (flat phone) or the new one (profile). */
export function insertedCustomer(id: string, sequence: number, version: 1 | 2): Document {
  const base = { _id: id, name: `New ${sequence}`, email: `new${sequence}@example.com`, source: 'app' };
  return version === 1
    ? { ...base, phone: `+1 555 ${sequence}`, schemaVersion: 1 }
    : { ...base, profile: { displayName: `New ${sequence}`, tier: 'gold', phone: `+1 555 ${sequence}` }, schemaVersion: 2 };
}

/** The value the writer puts in a field for write number `sequence` (unique, so a last value is unambiguous). */
function valueFor(kind: CustomersWrite, sequence: number): unknown {
  if (kind === 'counter') return sequence;
  if (kind === 'email') return `app${sequence}@example.com`;
  if (kind === 'profile.tier') return `tier-${sequence}`;
  if (kind === 'name') return `Renamed ${sequence}`;
  return `+44 20 ${sequence}`;
}

/** Makes one write of `kind`; returns its ledger entry, or undefined when it found no document. */
async function writeOnce(options: CustomersWriterOptions, kind: CustomersWrite, sequence: number): Promise<LedgerEntry | undefined> {
  const { collection } = options;
  const byId = (id: string) => ({ _id: id } as unknown as Document);
  if (kind === 'insert-v1' || kind === 'insert-v2') {
    const document = insertedCustomer(options.newId(sequence), sequence, kind === 'insert-v1' ? 1 : 2);
    await collection.insertOne({ ...document });
    return { id: String(document._id), kind, value: document, at: Date.now() };
  }
  const id = options.existingId();
  if (kind === 'delete') {
    const result = await collection.deleteOne(byId(id));
    return result.deletedCount > 0 ? { id, kind, value: null, at: Date.now() } : undefined;
  }
  const value = valueFor(kind, sequence);
  const result = await collection.updateOne(byId(id), { $set: { [kind]: value } });
  return result.matchedCount > 0 ? { id, kind, value, at: Date.now() } : undefined;
}

/** Starts writing; `stop()` ends it. Writes are sequential, so the ledger's order is the order they were acknowledged. */
export function startCustomersWriter(options: CustomersWriterOptions): CustomersWriter {
  const writer: CustomersWriter = { ledger: [], failures: [], stop: async () => undefined };
  const kinds = Object.entries(options.mix) as Array<[CustomersWrite, number]>;
  const total = kinds.reduce((sum, [, weight]) => sum + weight, 0);
  const interval = 1000 / (options.perSecond ?? 200);
  let running = true;
  const pick = (): CustomersWrite => {
    let roll = Math.random() * total;
    for (const [kind, weight] of kinds) if ((roll -= weight) < 0) return kind;
    return (kinds[0] as [CustomersWrite, number])[0];
  };
  const loop = (async () => {
    const started = performance.now();
    for (let n = 0; running; n += 1) {
      const wait = started + n * interval - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      try {
        const entry = await writeOnce(options, pick(), n + 1);
        if (entry) writer.ledger.push(entry);
      } catch (error) {
        writer.failures.push((error as Error).message);
      }
    }
  })();
  writer.stop = async () => {
    running = false;
    await loop;
  };
  return writer;
}

/** The last value per (document, field path) of the updates; deleted and inserted documents by id. */
export function lastWrites(ledger: readonly LedgerEntry[]): { values: Map<string, LedgerEntry>; deleted: Set<string>; inserted: Map<string, Document> } {
  const values = new Map<string, LedgerEntry>();
  const deleted = new Set<string>();
  const inserted = new Map<string, Document>();
  for (const entry of ledger) {
    if (entry.kind === 'delete') deleted.add(entry.id);
    else if (entry.kind === 'insert-v1' || entry.kind === 'insert-v2') inserted.set(entry.id, entry.value as Document);
    else values.set(`${entry.id} ${entry.kind}`, entry);
  }
  return { values, deleted, inserted };
}
