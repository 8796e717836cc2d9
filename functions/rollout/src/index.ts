/**
 * rollout — consumes `migration.expand.done`, `rollout.wave.requested`/`check` and
 * `image.revert.requested`/`check`: patches one wave's images, watches them with the
 * `kubectl rollout status` rules without blocking past its budget, emits the next stage, and on
 * failure reverts every touched wave (newest first) or freezes, as the policy says.
 */
import { isEventOf, waveRequest } from '@upshift/events';
import { defineFunction, UpshiftError } from '@upshift/runtime';
import { ClusterRegistry } from '@upshift/runtime/kubernetes.ts';
import { RolloutConfig } from './config.ts';
import { checkRevert, startRevert } from './revert.ts';
import { checkWave, requirePlan, startWave } from './wave.ts';

const registry = new ClusterRegistry();

const rollout = defineFunction({
  name: 'rollout',
  config: RolloutConfig,
  async handle(ctx, event) {
    if (isEventOf(event, 'migration.expand.done')) {
      const plan = await requirePlan(ctx, event.data.runId);
      const first = waveRequest(plan, 0);
      return void (first ? ctx.emit('rollout.wave.requested', first) : ctx.emit('verify.requested', { runId: plan.runId }));
    }
    if (isEventOf(event, 'rollout.wave.requested')) return startWave(ctx, event.data, registry);
    if (isEventOf(event, 'rollout.wave.check')) return checkWave(ctx, event.data, registry);
    if (isEventOf(event, 'image.revert.requested')) return startRevert(ctx, event.data, registry);
    if (isEventOf(event, 'image.revert.check')) return checkRevert(ctx, event.data, registry);
    throw new UpshiftError('CONTRACT_VIOLATION', `rollout does not consume ${event.type}`);
  },
});

export default rollout;
export const { handle, init, shutdown, readiness, liveness } = rollout;
