/**
 * Run state: the one home of every statement on the control store's run tables (`upshift.runs`,
 * `run_targets`, `steps`) and of the read-only views people see. Statuses, step kinds and claims are
 * the typed vocabulary of `lifecycle/statuses.ts`; a lint rule forbids SQL on `upshift.` tables elsewhere.
 */
export * from './runs.ts';
export * from './steps.ts';
export * from './shards.ts';
export * from './claims.ts';
export * from './fan-in.ts';
export * from './views.ts';
export * from './failure.ts';
export * from './dead-letters.ts';
export * from './stalls.ts';
export * from './controls.ts';
export * from './run-changes.ts';
export * from './frozen.ts';
