/**
 * Whether a plan can be announced: `upgrade.planned` carries every target (service × cluster, with its
 * current and target image), and an event travels as one Kafka record, which the relay keeps under
 * 1,000,000 bytes (Kafka's default `message.max.bytes`, less overheads). A plan whose event would not fit
 * is refused up front, naming its size, instead of being set aside by the relay after it was stored.
 */
import type { FieldProblem, RunPlan } from '@upshift/events';

/** Bytes of `upgrade.planned` data allowed: the relay's record limit less room for the CloudEvents headers and key. */
export const plannedEventBudgetBytes = 900_000;

/** The problem when the plan's `upgrade.planned` data is larger than `budget` bytes as JSON; undefined when it fits. */
export function plannedEventProblem(plan: RunPlan, budget: number = plannedEventBudgetBytes): FieldProblem | undefined {
  const data = { runId: plan.runId, policyName: plan.policyName, dryRun: plan.dryRun, waves: plan.waves, migrations: plan.migrations };
  const bytes = new TextEncoder().encode(JSON.stringify(data)).length;
  if (bytes <= budget) return undefined;
  const targets = plan.waves.reduce((sum, wave) => sum + wave.targets.length, 0);
  return {
    path: 'spec.services',
    message: `the plan of ${targets} (service, cluster) pairs is ${bytes} bytes as upgrade.planned; at most ${budget} fit in one event: split the upgrade into smaller requests`,
  };
}
