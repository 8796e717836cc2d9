/**
 * `npm run bench` — runs every benchmark that exists. Each prints its figures next to a baseline measured
 * in the same run on the same servers, as ratios. Start the stack first (`npm run stack:up`), or let
 * `npm run bench` do it (it goes through the stack CLI's env).
 */
import { benchHop } from './hop.ts';
import { benchMigrations } from './migrations.ts';
import { benchOrchestration } from './orchestration.ts';
import { benchRestore } from './restore.ts';

const benchmarks: Array<{ name: string; run: () => Promise<void> }> = [
  { name: 'hop latency and throughput (issue 5)', run: benchHop },
  { name: 'migration backfill against raw UPDATE and updateMany (issue 7)', run: benchMigrations },
  { name: 'guarded restore against the whole-row restore (issue 13)', run: benchRestore },
  { name: 'end-to-end orchestration overhead (issue 8)', run: benchOrchestration },
];

for (const { name, run } of benchmarks) {
  process.stdout.write(`\n== ${name} ==\n`);
  await run();
}
