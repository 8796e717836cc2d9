/**
 * @upshift/events — the contract between upshift's functions and its users: the CloudEvents
 * catalogue, the UpgradePolicy schema, the Kafka/HTTP bindings and the typed producer/consumer.
 */
export * from './contract.ts';
export { activeTraceContext } from './otel.ts';
export type { ContentMode } from './bindings/sdk.ts';
export * from './bindings/kafka.ts';
export * from './bindings/http.ts';
export type { KafkaConnection, KafkaSasl, KafkaSaslMechanism } from './kafka/connection.ts';
export { brokersFrom } from './kafka/client.ts';
export { ensureTopics, topicEnd, type EnsureTopicsOptions, type PartitionOffset } from './kafka/topics.ts';
export * from './kafka/produce.ts';
export { publishRunControl, runControlEvent, type ControlProducer } from './kafka/control.ts';
export * from './kafka/consume.ts';
export { fixture, fixtureJson, fixturesDir } from './fixtures.ts';
export { runStrategy, waveRequest, type PlannedTarget, type RunPlan, type RunStrategy, type ScheduledMigration } from './run-plan.ts';
export { retryWhileRetriable } from './kafka/retry.ts';
