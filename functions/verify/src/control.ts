/**
 * `run.control.requested`: verify is the run's coordinator and the single writer of its control state.
 * Under the run's lock it decides the control once per control id (`decideControl`, the run lifecycle),
 * stores the state, carries the effect out — held work released (a resume; a promote, past the wave's gate) or dropped, the failure policy applied
 * (abort), a failed shard requested again (retry) — and answers `run.control.applied`, also when it
 * ignores the control, with why. A control id answered before gets the same answer again.
 */
import { catalogue, entries, type DeepReadonly, type EventData, type RunControlApplied } from '@upshift/events';
import {
  applyFailurePolicy, controlAnswer, controlStateData, decideControl, dropHeldWork, fanInOf, latestEventType, latestShardRequest, loadPlan,
  lockRun, migrationsWithShards, readRunControl, readStep, recordControlAnswer, releaseHeldWork, reopenFailedShard, shardStep, stageOfEvent,
  uncontrolled, writeRunControl, type ControlDecision, type ControlFacts, type Decision, type HandlerContext, type RunFacts,
} from '@upshift/runtime';
import type { VerifyConfig } from './config.ts';

type Ctx = HandlerContext<VerifyConfig>;
type ControlRequest = DeepReadonly<EventData<'run.control.requested'>>;

/** Work events that say where a run stands (the controls themselves say nothing about it). */
const stageEventTypes = entries.filter((e) => e.consumer !== null && e.name !== 'run.control.requested').map((e) => e.type);

/** Handles one control request: looks nothing up outside the decision (it is all in the control store). */
export async function controlRequested(ctx: Ctx, data: ControlRequest): Promise<void> {
  await ctx.decide(async (d) => {
    const run = await lockRun(d.tx, data.runId);
    const earlier = await controlAnswer(d.tx, data.controlId);
    if (earlier) {
      d.emit('run.control.applied', earlier);
      return;
    }
    const decision = decideControl(data, await factsOf(d, data, run));
    const answer: RunControlApplied = {
      runId: data.runId, controlId: data.controlId, action: data.action, requestedBy: data.requestedBy,
      outcome: decision.outcome, message: decision.message, state: controlStateData(decision.state),
    };
    if (!(await recordControlAnswer(d.tx, answer))) {
      // Answered meanwhile by a copy of this control for a run nobody locks (unknown): its answer stands.
      const first = await controlAnswer(d.tx, data.controlId);
      if (first) d.emit('run.control.applied', first);
      return;
    }
    if (decision.outcome === 'applied') await carryOut(d, data, decision);
    ctx.log.info({ controlId: data.controlId, action: data.action, outcome: decision.outcome, requestedBy: data.requestedBy }, `control of run ${data.runId}: ${decision.message}`);
    d.emit('run.control.applied', answer);
  });
}

/** What the decision needs, read under the run's lock. */
async function factsOf(d: Decision, data: ControlRequest, run: RunFacts | undefined): Promise<ControlFacts> {
  const now = Date.now();
  if (!run) return { status: undefined, state: uncontrolled, now };
  const { runId } = data;
  const state = await readRunControl(d.tx, runId);
  const plan = await loadPlan(d.tx, runId);
  const latest = data.action === 'abort' ? await latestEventType(d.tx, runId, stageEventTypes) : undefined;
  const facts: ControlFacts = {
    status: run.status, state, now, ...(plan ? { failurePolicy: plan.strategy.failurePolicy } : {}), stage: latest ? stageOfEvent(latest) : 'rollout',
  };
  if (data.action !== 'retry' || data.target?.kind !== 'shard') return facts;
  const { shardId } = data.target;
  const step = shardId.startsWith(`${runId}:`) ? await readStep(d.tx, shardStep(runId, shardId)) : undefined;
  const fanIn = await fanInOf(d.tx, runId, 'fanin');
  const requestKnown = step !== undefined && (await latestShardRequest(d.tx, shardId, catalogue['shard.requested'].type)) !== undefined;
  return { ...facts, shard: { status: step?.status, requestKnown }, fanInOpen: fanIn.final < fanIn.total };
}

/** Stores the state and carries the decision's effect out, in the handling transaction. */
async function carryOut(d: Decision, data: ControlRequest, decision: ControlDecision): Promise<void> {
  const { runId } = data;
  await writeRunControl(d.tx, runId, decision.state, { requestedBy: data.requestedBy, controlId: data.controlId });
  const effect = decision.effect;
  if (effect.kind === 'release-held') await releaseHeldWork(d.tx, runId);
  else if (effect.kind === 'drop-held') await dropHeldWork(d.tx, runId);
  else if (effect.kind === 'abort') {
    await dropHeldWork(d.tx, runId);
    const plan = await loadPlan(d.tx, runId);
    if (plan) await applyFailurePolicy(d, plan, { stage: effect.stage, reason: effect.reason, migrationsRun: await migrationsWithShards(d.tx, runId) });
  } else if (effect.kind === 'retry-shard') {
    const request = await latestShardRequest(d.tx, effect.shardId, catalogue['shard.requested'].type);
    if (request && (await reopenFailedShard(d.tx, runId, effect.shardId))) {
      d.emit('shard.requested', request as EventData<'shard.requested'>, { key: `retry:${data.controlId}` });
    }
  }
}
