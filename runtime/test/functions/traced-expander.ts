/**
 * Test function (plays migrate-shard) for the telemetry test: on migration.expand.requested it reads
 * PostgreSQL and pings MongoDB (so both instrumentations make spans inside the handling), then emits
 * migration.expand.done.
 */
import { MongoClient } from 'mongodb';
import { defineFunction } from '../../src/host/function.ts';

let mongo: MongoClient | undefined;

const tracedExpander = defineFunction({
  name: 'migrate-shard',
  async init() {
    mongo = new MongoClient(process.env['MONGODB_URL'] ?? 'mongodb://127.0.0.1:27117/', { serverSelectionTimeoutMS: 5000 });
    await mongo.connect();
  },
  async shutdown() {
    await mongo?.close();
  },
  async handle(ctx, event) {
    if (event.type !== 'dev.upshift.migration.expand.requested.v1') return;
    const { runId, migrations } = event.data;
    await ctx.store.query('SELECT 1');
    await mongo!.db('admin').command({ ping: 1 });
    await ctx.decide(async (d) => void d.emit('migration.expand.done', { runId, migrations: [...migrations] }));
  },
});

export default tracedExpander;
export const { handle, init, shutdown, readiness, liveness } = tracedExpander;
