/**
 * verify — consumes `shard.completed`, `shard.failed`, `shard.restore.done`, `verify.requested` and
 * `run.control.requested` (the operator's controls: verify is the single writer of a run's control state):
 * fans shard outcomes in (once per shard, race-free), checks workloads, version markers and invariants,
 * and ends the run: `upgrade.completed`, the contract phase, or the rollback or freeze the policy asks for.
 * It also consumes the dead-letter topic (a run's lost event is redriven or ends the run) and runs the
 * run watchdog (a run that stopped making progress is nudged, then failed).
 */
import { hostname } from 'node:os';
import { isEventOf } from '@upshift/events';
import { loadCatalog } from '@upshift/migrations';
import { defineFunction, UpshiftError } from '@upshift/runtime';
import { ClusterRegistry } from '@upshift/workloads';
import { VerifyConfig } from './config.ts';
import { controlRequested } from './control.ts';
import { deadLettered } from './dead-letters.ts';
import { startWatchdog, type Watchdog } from './watchdog.ts';
import { restoreDone, shardFinal, verifyRequested, type VerifyDeps } from './verify-run.ts';

let deps: VerifyDeps | undefined;
let watchdog: Watchdog | undefined;

const verify = defineFunction({
  name: 'verify',
  config: VerifyConfig,
  async init(functionDeps) {
    const { config } = functionDeps;
    deps = { clusters: new ClusterRegistry(), catalog: loadCatalog(config.UPSHIFT_CATALOG_DIR), env: config as Record<string, string | undefined> };
    watchdog = startWatchdog(functionDeps, `${hostname()}:${process.pid}`);
  },
  async shutdown() {
    await watchdog?.stop();
    watchdog = undefined;
  },
  async handle(ctx, event) {
    if (!deps) throw new UpshiftError('UNAVAILABLE', 'verify is not initialised');
    if (isEventOf(event, 'shard.completed') || isEventOf(event, 'shard.failed')) return shardFinal(ctx, event.data);
    if (isEventOf(event, 'shard.restore.done')) return restoreDone(ctx, event.data);
    if (isEventOf(event, 'verify.requested')) return verifyRequested(ctx, event.data, deps);
    if (isEventOf(event, 'run.control.requested')) return controlRequested(ctx, event.data);
    throw new UpshiftError('CONTRACT_VIOLATION', `verify does not consume ${event.type}`);
  },
  deadLetters: (ctx, event, letter) => deadLettered(ctx, event, letter),
});

export default verify;
export const { handle, init, shutdown, readiness, liveness } = verify;
