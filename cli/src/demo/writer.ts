/**
 * The demo's application: it keeps writing to the customers while the run goes on (before, during and
 * after their migration, and through a rollback), as whichever version owns each document — the old
 * one writes `phone` on a schemaVersion 1 document, the new one `profile.phone` on a schemaVersion 2
 * one — and `email`, which the migration never touches. Every acknowledged write goes in a ledger; at
 * the end each one is looked for in the collection.
 */
import { MongoClient, type Collection, type Document } from 'mongodb';
import { demoData } from './data.ts';

/** One acknowledged write: the document, the field as the application sees it, the value. */
export interface CustomerWrite {
  id: string;
  field: 'email' | 'phone';
  value: string;
}

/** What became of the writes: how many, how many are still there, the documents they touched. */
export interface WriterReport {
  written: number;
  kept: number;
  lost: CustomerWrite[];
  touched: ReadonlySet<string>;
  failures: number;
}

/** A customer as the writer sees it: string `_id`s (see customerDocument). */
type Customer = Document & { _id: string };

/** A running application writer. */
export interface CustomersWriter {
  /** Stops writing and checks every write of the ledger against the collection. */
  stop(): Promise<WriterReport>;
}

/** Where and how fast the application writes. */
export interface WriterOptions {
  url: string;
  /** The `_id` of the next customer to write (a random existing one). */
  pickId: () => string;
  perSecond?: number;
  database?: string;
  collection?: string;
}

/** Starts about `perSecond` writes a second to customers chosen by `pickId`. */
export function startCustomersWriter(options: WriterOptions): CustomersWriter {
  const perSecond = options.perSecond ?? 50;
  const client = new MongoClient(options.url, { serverSelectionTimeoutMS: 10_000, appName: 'demo-app' });
  const customers = client.db(options.database ?? demoData.mongoDatabase).collection<Customer>(options.collection ?? demoData.collection);
  const ledger: CustomerWrite[] = [];
  let failures = 0;
  let running = true;
  const writeOne = async (sequence: number): Promise<void> => {
    const id = options.pickId();
    if (sequence % 5 < 3) {
      const value = `app${sequence}@example.com`;
      const result = await customers.updateOne({ _id: id }, { $set: { email: value } });
      if (result.matchedCount === 1) ledger.push({ id, field: 'email', value });
      return;
    }
    const value = `+49 40 ${sequence}`;
    // The version that owns the document writes its phone where that version keeps it.
    for (let attempt = 0; attempt < 3; attempt += 1) {
      if ((await customers.updateOne({ _id: id, schemaVersion: 1 }, { $set: { phone: value } })).matchedCount === 1
        || (await customers.updateOne({ _id: id, schemaVersion: 2 }, { $set: { 'profile.phone': value } })).matchedCount === 1) {
        ledger.push({ id, field: 'phone', value });
        return;
      }
    }
  };
  const loop = (async () => {
    await client.connect();
    const started = performance.now();
    for (let n = 0; running; n += 1) {
      const wait = started + (n * 1000) / perSecond - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      await writeOne(n).catch(() => { failures += 1; });
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      try {
        return await checkLedger(ledger, customers, failures);
      } finally {
        await client.close();
      }
    },
  };
}

/** Each (document, field)'s last write must still be there: `email`, or the phone where either version keeps it. */
async function checkLedger(ledger: readonly CustomerWrite[], customers: Collection<Customer>, failures: number): Promise<WriterReport> {
  const last = new Map<string, CustomerWrite>();
  for (const write of ledger) last.set(`${write.id}\u0000${write.field}`, write);
  const touched = new Set(ledger.map((write) => write.id));
  const current = new Map<string, Document>();
  for await (const doc of customers.find({})) if (touched.has(String(doc._id))) current.set(String(doc._id), doc);
  const lost = [...last.values()].filter((write) => {
    const doc = current.get(write.id);
    if (!doc) return true;
    if (write.field === 'email') return doc.email !== write.value;
    return doc.phone !== write.value && (doc.profile as Document | undefined)?.phone !== write.value;
  });
  return { written: ledger.length, kept: ledger.length - lost.length, lost, touched, failures };
}
