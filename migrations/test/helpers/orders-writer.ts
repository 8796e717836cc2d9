/**
 * An application writing to `orders` while upshift works: about `perSecond` writes a second, paced
 * from each write's scheduled time, every committed write kept in a ledger (row, column, value), so
 * a test can check afterwards that each one is still there.
 */
import pg from 'pg';

/** One kind of write the application makes. */
export type OrdersWrite = 'note' | 'amount' | 'amount_minor' | 'insert-v1' | 'insert-v2' | 'delete';

/** One committed write. */
export interface LedgerEntry {
  id: number;
  kind: OrdersWrite;
  /** The value written to the column the kind names (text form), or null for an insert/delete. */
  value: string | null;
  committedAt: number;
}

/** A running writer: its ledger, the last value per (row, column), and a stop that waits for the last write. */
export interface OrdersWriter {
  ledger: LedgerEntry[];
  failures: string[];
  stop(): Promise<void>;
}

/** What to write: the mix of kinds and the ids of existing rows to pick from. */
export interface WriterOptions {
  url: string;
  table?: string;
  perSecond?: number;
  mix: Partial<Record<OrdersWrite, number>>;
  existingIds: () => number;
  /** First id for inserted rows (beyond the seeded ones). */
  firstNewId: number;
}

/** Starts writing; `stop()` ends it. Writes are sequential, so the ledger's order is the commit order. */
export function startOrdersWriter(options: WriterOptions): OrdersWriter {
  const client = new pg.Client({ connectionString: options.url, application_name: 'orders-app' });
  const table = pg.escapeIdentifier(options.table ?? 'orders');
  const writer: OrdersWriter = { ledger: [], failures: [], stop: async () => undefined };
  const kinds = Object.entries(options.mix) as Array<[OrdersWrite, number]>;
  const total = kinds.reduce((sum, [, weight]) => sum + weight, 0);
  const interval = 1000 / (options.perSecond ?? 200);
  let running = true;
  let nextId = options.firstNewId;
  let sequence = 0;
  const pick = (): OrdersWrite => {
    let roll = Math.random() * total;
    for (const [kind, weight] of kinds) if ((roll -= weight) < 0) return kind;
    return kinds[0]![0];
  };
  const write = async (kind: OrdersWrite): Promise<LedgerEntry | undefined> => {
    sequence += 1;
    if (kind === 'insert-v1' || kind === 'insert-v2') {
      const id = nextId++;
      const v2 = kind === 'insert-v2';
      await client.query(`INSERT INTO ${table} (id, customer_id, amount, note, created_at, schema_version${v2 ? ', amount_minor, currency' : ''})
        VALUES ($1::bigint, 7, ${v2 ? 'NULL' : '12.34'}, 'new ' || $1::text, now(), ${v2 ? "2, 4321, 'USD'" : '1'})`, [id]);
      return { id, kind, value: null, committedAt: Date.now() };
    }
    const id = options.existingIds();
    if (kind === 'delete') {
      const result = await client.query(`DELETE FROM ${table} WHERE id = $1`, [id]);
      return (result.rowCount ?? 0) > 0 ? { id, kind, value: null, committedAt: Date.now() } : undefined;
    }
    const value = kind === 'note' ? `app write ${sequence}` : kind === 'amount' ? (sequence % 100000 / 100).toFixed(2) : String(900_000 + sequence);
    const result = await client.query(`UPDATE ${table} SET ${pg.escapeIdentifier(kind)} = $2 WHERE id = $1`, [id, value]);
    return (result.rowCount ?? 0) > 0 ? { id, kind, value, committedAt: Date.now() } : undefined;
  };
  const loop = (async () => {
    await client.connect();
    const started = performance.now();
    for (let n = 0; running; n += 1) {
      const due = started + n * interval;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      try {
        const entry = await write(pick());
        if (entry) writer.ledger.push(entry);
      } catch (error) {
        writer.failures.push((error as Error).message);
      }
    }
    await client.end();
  })();
  writer.stop = async () => {
    running = false;
    await loop;
  };
  return writer;
}

/** The last value the ledger wrote per (row, column) for updates; deleted and inserted rows by id. */
export function lastWrites(ledger: readonly LedgerEntry[]): { values: Map<string, { id: number; column: string; value: string }>; deleted: Set<number>; inserted: Map<number, OrdersWrite> } {
  const values = new Map<string, { id: number; column: string; value: string }>();
  const deleted = new Set<number>();
  const inserted = new Map<number, OrdersWrite>();
  for (const entry of ledger) {
    if (entry.kind === 'delete') deleted.add(entry.id);
    else if (entry.kind === 'insert-v1' || entry.kind === 'insert-v2') inserted.set(entry.id, entry.kind);
    else values.set(`${entry.id}:${entry.kind}`, { id: entry.id, column: entry.kind, value: entry.value ?? '' });
  }
  return { values, deleted, inserted };
}
