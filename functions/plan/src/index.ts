/**
 * plan — consumes `upgrade.requested`: validates the policy, runs a read-only preflight against every
 * cluster and data store, computes the waves and shards, persists the run and emits `upgrade.planned`
 * and the first stage, or `upgrade.rejected` listing every problem.
 */
import { isEventOf } from '@upshift/events';
import { defineFunction, UpshiftError } from '@upshift/runtime';
import { ClusterRegistry } from '@upshift/workloads';
import { catalogFrom } from './adapters/catalog.ts';
import { PlanConfig } from './config.ts';
import { planRun, type PlanDeps } from './plan-run.ts';

let deps: PlanDeps | undefined;

const plan = defineFunction({
  name: 'plan',
  config: PlanConfig,
  async init({ config }) {
    deps = {
      clusters: new ClusterRegistry(), catalog: catalogFrom(config.UPSHIFT_CATALOG_DIR), env: config as Record<string, string | undefined>, // as parsed at start: inline functions get their own env
      ...(config.UPSHIFT_ROLLOUT_IDENTITY ? { rolloutIdentity: config.UPSHIFT_ROLLOUT_IDENTITY } : {}),
    };
  },
  async handle(ctx, event) {
    if (!isEventOf(event, 'upgrade.requested')) {
      throw new UpshiftError('CONTRACT_VIOLATION', `plan does not consume ${event.type}`);
    }
    if (!deps) throw new UpshiftError('UNAVAILABLE', 'plan is not initialised');
    await planRun(ctx, event.data, deps);
  },
});

export default plan;
export const { handle, init, shutdown, readiness, liveness } = plan;
