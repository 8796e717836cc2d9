/**
 * @upshift/runtime — what every upshift function shares: defineFunction (Knative functions shape) and
 * its host, the control store with exactly-once effects (inbox/outbox, relay), leases with fencing,
 * errors mapped to delivery outcomes, config, logs, metrics, telemetry, run state and the run lifecycle.
 * The `upshift dev` runner is `@upshift/runtime/dev`.
 */
export { UpshiftError, errorCodes, isUpshiftError, statusFor } from './errors.ts';
export type { ErrorCode, ErrorContext } from './errors.ts';
export { atBoundary, wrapError } from './wrap-error.ts';
export { HostConfig, describeConfigIssues, folderSetting, loadConfigOrExit, parseConfig } from './config.ts';
export { createLogger } from './log.ts';
export { isSecretKey, redactCredentials, redactSecrets, REDACTED } from './redact.ts';
export type { Logger } from './log.ts';
export { createPool, pingStore, withTransaction } from './store/pool.ts';
export type { TxClient } from './store/pool.ts';
export { migrateStore } from './store/migrate.ts';
export { acquireLease, assertFence, guardedWrite, heartbeatLease, releaseLease, startHeartbeat } from './store/leases.ts';
export type { Heartbeat, Lease, Queryable } from './store/leases.ts';
export * from './store/run-state/index.ts';
export * from './lifecycle/statuses.ts';
export * from './lifecycle/stages.ts';
export * from './lifecycle/rollback.ts';
export { OutboxRelay } from './store/relay.ts';
export { changeStoreBatchCap, chargeStoreBudget, forgetStoreBudget, giveBackStoreBatchSlot, takeStoreBatchSlot, type StoreBatchSlot, type StoreBudgetRow } from './store/store-budgets.ts';
export { defineFunction } from './host/function.ts';
export type { Decision, FunctionDefinition, FunctionDeps, FunctionModule, HandlerContext, InitOverrides } from './host/function.ts';
export type { HandleResult } from './host/handle-event.ts';
export { startHost } from './host/server.ts';
export type { RunningHost } from './host/server.ts';
export { loadFunctionModule, runFunctionProcess } from './host/main.ts';
export { KafkaPublisher, createKafka } from './transport/kafka.ts';
export { KafkaSecurityVariables, describeKafkaSecurity, kafkaSecurity, type KafkaSecurity, type KafkaSecuritySettings } from './transport/kafka-security.ts';
export { MemoryTransport } from './transport/memory.ts';
export { logLevel as kafkaLogLevel, type KafkaConfig } from './transport/kafkajs.ts';
export { deletePrefixedTopics, ensureCatalogueTopics } from './transport/topics.ts';
export type { OutgoingMessage, Publisher } from './transport/types.ts';
export { contextOfEvent, currentTraceId, traceAttributesOf } from './telemetry/propagation.ts';
export { RUN_ID_ATTRIBUTE } from './telemetry/run-context.ts';
export * from './lifecycle/dead-letters.ts';
export * from './lifecycle/watchdog.ts';
export * from './lifecycle/controls.ts';
