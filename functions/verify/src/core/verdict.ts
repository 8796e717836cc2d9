/** The outcome of one verification check, with its evidence. */
export interface CheckResult {
  name: string;
  kind: 'workloadsAvailable' | 'noOldVersion' | 'invariants';
  passed: boolean;
  message: string;
}

/** What verify does once it has the shard outcomes and the checks. */
export type Verdict =
  | { kind: 'complete'; contract: boolean }
  | { kind: 'rollback'; stage: 'migrate' | 'verify'; reason: string }
  | { kind: 'freeze'; stage: 'migrate' | 'verify'; reason: string };

/**
 * All shards migrated and every check passed → complete (contract first if the policy asks). Otherwise
 * the failure policy decides; a failed shard is a migrate-stage failure, a failed check a verify one.
 */
export function decideVerdict(input: { failedShards: string[]; checks: CheckResult[]; failurePolicy: 'rollback' | 'freeze'; contract: boolean }): Verdict {
  const failedChecks = input.checks.filter((c) => !c.passed);
  if (input.failedShards.length === 0 && failedChecks.length === 0) return { kind: 'complete', contract: input.contract };
  const stage = input.failedShards.length > 0 ? 'migrate' : 'verify';
  const reason = [
    ...input.failedShards.map((s) => `shard ${s}`),
    ...failedChecks.map((c) => `check ${c.name}: ${c.message}`),
  ].join('; ');
  return { kind: input.failurePolicy, stage, reason: truncate(reason, 2000) };
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
