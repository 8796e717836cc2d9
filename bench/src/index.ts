/**
 * `npm run bench` — runs every benchmark that exists. Each prints its figures next to a baseline measured
 * in the same run on the same servers, as ratios. Start the stack first (`npm run stack:up`), or let
 * `npm run bench` do it (it goes through the stack CLI's env).
 */
import { benchHop } from './hop.ts';
import { benchInstances } from './instances.ts';
import { benchManyShards } from './many-shards.ts';
import { benchMigrations } from './migrations.ts';
import { benchOnline } from './online.ts';
import { benchOrchestration } from './orchestration.ts';
import { benchPlan } from './plan.ts';
import { benchRestore } from './restore.ts';

const benchmarks: Array<{ name: string; run: () => Promise<void> }> = [
  { name: 'hop latency and throughput (issue 5)', run: benchHop },
  { name: 'migration backfill against raw UPDATE and updateMany (issue 7)', run: benchMigrations },
  { name: 'guarded restore against the whole-row restore (issue 13)', run: benchRestore },
  { name: 'end-to-end orchestration overhead (issue 8)', run: benchOrchestration },
  { name: '1,000 and 10,000 shards in one run: per-shard cost and status (issue 18)', run: benchManyShards },
  { name: 'what a writing application feels during a backfill (issue 20)', run: benchOnline },
  { name: 'data work with 1, 2 and 4 migrate-shard instances (issue 18)', run: benchInstances },
  { name: 'plan of 1,000 services × 2 clusters on kwok, pure core of 1,000 × 10 (issue 18)', run: benchPlan },
];

for (const { name, run } of benchmarks) {
  process.stdout.write(`\n== ${name} ==\n`);
  await run();
}
