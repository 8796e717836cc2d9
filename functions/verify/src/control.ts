/**
 * `run.control.requested`: verify is the run's coordinator and the single writer of its control state.
 * Under the run's lock it decides the control once per control id (`decideControl`, the run lifecycle),
 * stores the state, carries the effect out — held work released (a resume; a promote, past the wave's gate) or dropped, the failure policy applied
 * (abort), a failed shard requested again (retry) — and answers `run.control.applied`, also when it
 * ignores the control, with why. A control id answered before gets the same answer again.
 */
import { catalogue, entries, type DeepReadonly, type EventData, type RunControlApplied } from '@upshift/events';
import {
  applyFailurePolicy, controlAnswer, controlStateData, decideControl, dropHeldWork, fanInOf, forgetVerdict, frozenFacts, latestEventType, latestShardRequest, loadPlan,
  lockRun, migrationsWithShards, passGates, readRunControl, readStep, recordControlAnswer, releaseHeldWork, reopenFailedShard, reopenFrozenRun, restartWave, rollBackFrozen,
  shardStep, stageOfEvent, uncontrolled, writeRunControl, type ControlDecision, type ControlFacts, type Decision, type HandlerContext, type RunState,
} from '@upshift/runtime';
import { waveRequest } from '@upshift/events';
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
async function factsOf(d: Decision, data: ControlRequest, run: RunState | undefined): Promise<ControlFacts> {
  const now = Date.now();
  if (!run) return { status: undefined, state: uncontrolled, now };
  const { runId } = data;
  const state = await readRunControl(d.tx, runId);
  const plan = await loadPlan(d.tx, runId);
  const latest = data.action === 'abort' ? await latestEventType(d.tx, runId, stageEventTypes) : undefined;
  const frozen = run.status === 'failed' && plan ? await frozenFacts(d.tx, plan) : undefined;
  const facts: ControlFacts = {
    status: run.status, state, now, ...(plan ? { failurePolicy: plan.strategy.failurePolicy } : {}), stage: latest ? stageOfEvent(latest) : 'rollout',
    ...(frozen ? { frozen } : {}),
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
  if (data.action === 'promote') await passGates(d.tx, runId);
  if (effect.kind === 'release-held') await releaseHeldWork(d.tx, runId);
  else if (effect.kind === 'drop-held') await dropHeldWork(d.tx, runId);
  else if (effect.kind === 'abort') {
    await dropHeldWork(d.tx, runId);
    const plan = await loadPlan(d.tx, runId);
    if (plan) await applyFailurePolicy(d, plan, { stage: effect.stage, reason: effect.reason, migrationsRun: await migrationsWithShards(d.tx, runId) });
  } else if (effect.kind === 'retry-shard') {
    await retryShard(d, data, effect.shardId);
  } else if (effect.kind !== 'none') {
    await reopenFrozen(d, data, effect);
  }
}

/** Requests a failed shard again (reopened: it resumes after its last committed batch). */
async function retryShard(d: Decision, data: ControlRequest, shardId: string): Promise<void> {
  const request = await latestShardRequest(d.tx, shardId, catalogue['shard.requested'].type);
  if (request && (await reopenFailedShard(d.tx, data.runId, shardId))) {
    d.emit('shard.requested', request as EventData<'shard.requested'>, { key: `retry:${data.controlId}` });
  }
}

type ReopenEffect = Extract<ControlDecision['effect'], { kind: 'reopen-wave' | 'reopen-shard' | 'rollback-frozen' }>;

/**
 * A frozen run goes on or rolls back: reopened (its targets claimed again), what it held before the
 * freeze dropped, then its wave or shard requested again — or its compensations started.
 */
async function reopenFrozen(d: Decision, data: ControlRequest, effect: ReopenEffect): Promise<void> {
  const { runId } = data;
  const plan = await loadPlan(d.tx, runId);
  if (!plan || !(await reopenFrozenRun(d.tx, runId, effect.kind === 'rollback-frozen' ? 'rolling-back' : 'running'))) return;
  await dropHeldWork(d.tx, runId);
  if (effect.kind === 'rollback-frozen') {
    await rollBackFrozen(d, plan, { stage: effect.stage, reason: effect.reason, migrationsRun: await migrationsWithShards(d.tx, runId) });
  } else if (effect.kind === 'reopen-wave') {
    await restartWave(d.tx, runId, effect.wave);
    const request = waveRequest(plan, effect.wave);
    if (request) d.emit('rollout.wave.requested', request, { key: `retry:${data.controlId}` });
  } else {
    await forgetVerdict(d.tx, runId);
    await retryShard(d, data, effect.shardId);
  }
}
