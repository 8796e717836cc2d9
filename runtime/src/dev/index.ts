/**
 * @upshift/runtime/dev — the `upshift dev` runner: the catalogue's functions as local HTTP servers plus
 * the dispatcher that stands in for KafkaSources. A subpath of its own so that functions, which import
 * `@upshift/runtime`, do not load the runner; the CLI, tests and benchmarks import it from here.
 */
export { catalogueFunctions, functionPackage, locateFunction } from './catalogue-functions.ts';
export type { CatalogueFunctions, ResolveSpecifier } from './catalogue-functions.ts';
export { DevConfig, devCommand, runDev } from './runner.ts';
export type { DevOptions, DevRunner } from './runner.ts';
export { freePort } from './functions.ts';
export type { DevFunctionSpec, StartedFunction } from './functions.ts';
export { Dispatcher } from './dispatcher.ts';
export type { DeliveryOrder, DispatchInstance, DispatchTarget, DispatcherOptions } from './dispatcher.ts';
export { InstanceBalancer } from './balancer.ts';
export { maxInstances, parseScale } from './scale.ts';
export type { Scale } from './scale.ts';
export type { DeliveryOutcome } from './deliver.ts';
export { backoffDelay, CONCURRENCY_VARIABLE, deliveryPolicy, functionLimits, retryWindowMs } from './delivery-policy.ts';
export type { BackoffPolicy, FunctionLimits, RetryPolicy } from './delivery-policy.ts';
