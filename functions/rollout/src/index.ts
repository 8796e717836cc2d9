/**
 * rollout — consumes `migration.expand.done`, `rollout.wave.requested`/`check` and
 * `image.revert.requested`/`check`: patches one wave's images, looks at them once per invocation with
 * the `kubectl rollout status` rules and hands over to a continuation while they roll out, emits the
 * next stage, and on failure applies the policy; the image revert puts back every touched wave, newest
 * first.
 */
import { isEventOf } from '@upshift/events';
import { afterExpand, defineFunction, requirePlan, UpshiftError } from '@upshift/runtime';
import { ClusterRegistry } from '@upshift/workloads';
import { RolloutConfig } from './config.ts';
import { checkRevert, startRevert } from './revert.ts';
import { checkWave, startWave } from './wave.ts';

const registry = new ClusterRegistry();

const rollout = defineFunction({
  name: 'rollout',
  config: RolloutConfig,
  async handle(ctx, event) {
    if (isEventOf(event, 'migration.expand.done')) {
      const plan = await requirePlan(ctx.store, event.data.runId);
      const next = afterExpand(plan);
      await ctx.decide(async (d) => void (next.kind === 'wave' ? d.emit('rollout.wave.requested', next.request) : d.emit('verify.requested', { runId: plan.runId })));
      return;
    }
    if (isEventOf(event, 'rollout.wave.requested')) return startWave(ctx, event.data, registry);
    if (isEventOf(event, 'rollout.wave.check')) return checkWave(ctx, event.data, registry);
    if (isEventOf(event, 'image.revert.requested')) return startRevert(ctx, event.data);
    if (isEventOf(event, 'image.revert.check')) return checkRevert(ctx, event.data, registry);
    throw new UpshiftError('CONTRACT_VIOLATION', `rollout does not consume ${event.type}`);
  },
});

export default rollout;
export const { handle, init, shutdown, readiness, liveness } = rollout;
