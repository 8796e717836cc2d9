/**
 * The pure part of the contract (`@upshift/events/contract`): catalogue, schemas, typed events,
 * the UpgradePolicy. No Kafka, HTTP, SDK or OpenTelemetry imports, so a function's pure core can
 * use it; the package root adds the bindings and the Kafka producer/consumer.
 */
export * from './names.ts';
export * from './schemas/common.ts';
export * from './schemas/upgrade.ts';
export * from './schemas/rollout.ts';
export * from './schemas/migration.ts';
export * from './schemas/observe.ts';
export * from './schemas/control.ts';
export * from './catalogue.ts';
export { ContractViolation, formatPath, issuesFrom, type ContractIssue } from './errors.ts';
export * from './event.ts';
export { dataSchemaOf, SCHEMA_BASE } from './dataschema.ts';
export { derivedId, uuidv7 } from './ids.ts';
export * from './trace.ts';
export * from './policy/schema.ts';
export { parsePolicy, parsePolicyYaml, PolicyInvalid, type PolicyResult } from './policy/parse.ts';
export { findCycle } from './policy/refine.ts';
export { formatBytes, policyLimits, problemLimits } from './policy/limits.ts';
export { boundProblems, boundText, formatProblemPath, MORE_PROBLEMS_PATH } from './policy/problems.ts';
export { defaultStrategyThrottle, StrategyThrottle, ThrottleQuery } from './policy/throttle.ts';
export { runStrategy, waveRequest, type PlannedTarget, type RunPlan, type RunStrategy, type ScheduledMigration } from './run-plan.ts';
