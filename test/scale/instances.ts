/**
 * Support of the scale tests: what each instance of a function did, read from the instance itself
 * (its own /metrics), and which instance holds a shard's lease now (the lease holder names the process).
 */
import { entryFor, type FunctionName } from '@upshift/events';
import type { StartedFunction } from '@upshift/runtime/dev';
import type pg from 'pg';

/** The instances of `name` in a dev runner, in instance order. */
export function instancesOf(functions: readonly StartedFunction[], name: FunctionName): StartedFunction[] {
  return functions.filter((fn) => fn.name === name).sort((a, b) => a.instance - b.instance);
}

/** How many events of type `name` the instance at `url` handled with outcome ok, from its /metrics. */
export async function handledOk(url: string, name: 'shard.requested' | 'migration.requested'): Promise<number> {
  const text = await (await fetch(`${url}metrics`)).text();
  const type = entryFor(name).type;
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('upshift_events_handled_total{') && line.includes(`type="${type}"`) && line.includes('outcome="ok"')) total += Number(line.split(' ').at(-1));
  }
  return total;
}

/** The process ids holding a live shard lease now (migrate-shard's holder is `host:pid`). */
export async function shardLeaseHolders(control: pg.Client): Promise<Map<string, number>> {
  const { rows } = await control.query<{ name: string; holder: string }>(
    `SELECT name, holder FROM upshift.leases WHERE name LIKE 'shard:%' AND holder IS NOT NULL AND expires_at > now()`);
  return new Map(rows.map((row) => [row.name, Number(row.holder.split(':').at(-1))]));
}
