/**
 * verify — consumes `shard.completed`, `shard.failed`, `shard.restore.done` and `verify.requested`:
 * fans shard outcomes in (once per shard, race-free), checks workloads, version markers and invariants,
 * and ends the run: `upgrade.completed`, the contract phase, or the rollback or freeze the policy asks for.
 */
import { isEventOf } from '@upshift/events';
import { loadCatalog } from '@upshift/migrations';
import { defineFunction, UpshiftError } from '@upshift/runtime';
import { ClusterRegistry } from '@upshift/workloads';
import { VerifyConfig } from './config.ts';
import { restoreDone, shardFinal, verifyRequested, type VerifyDeps } from './verify-run.ts';

let deps: VerifyDeps | undefined;

const verify = defineFunction({
  name: 'verify',
  config: VerifyConfig,
  async init({ config }) {
    deps = { clusters: new ClusterRegistry(), catalog: loadCatalog(config.UPSHIFT_CATALOG_DIR), env: config as Record<string, string | undefined> };
  },
  async handle(ctx, event) {
    if (!deps) throw new UpshiftError('UNAVAILABLE', 'verify is not initialised');
    if (isEventOf(event, 'shard.completed') || isEventOf(event, 'shard.failed')) return shardFinal(ctx, event.data);
    if (isEventOf(event, 'shard.restore.done')) return restoreDone(ctx, event.data);
    if (isEventOf(event, 'verify.requested')) return verifyRequested(ctx, event.data, deps);
    throw new UpshiftError('CONTRACT_VIOLATION', `verify does not consume ${event.type}`);
  },
});

export default verify;
export const { handle, init, shutdown, readiness, liveness } = verify;
