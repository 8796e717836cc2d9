/**
 * The kafkajs names the rest of the runtime (the dev dispatcher) and the CLI use. kafkajs is imported only
 * under runtime/src/transport and events/src/kafka (a lint rule keeps it so), so changing the Kafka client
 * is a change to those two folders.
 */
export { Partitioners, logLevel } from 'kafkajs';
export type { Consumer, ConsumerConfig, EachBatchPayload, EachMessagePayload, Kafka, KafkaConfig, KafkaMessage, Message, Producer } from 'kafkajs';
