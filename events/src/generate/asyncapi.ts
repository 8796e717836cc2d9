/**
 * The AsyncAPI 3 document of upshift's Kafka interface: one channel per topic, one message per
 * event type (binary-mode CloudEvents: `ce_` headers, JSON data, key = partition key), and the
 * operations each function performs.
 */
import { catalogue, entries, isEventName, topics, workTopics, DEAD_LETTER_TOPIC, LIFECYCLE_TOPIC, type CatalogueEntry, type Topic } from '../catalogue.ts';
import { dataSchemaOf } from '../dataschema.ts';
import { eventDataSchema, type JsonSchema } from './jsonschema.ts';

function camelCase(name: string): string {
  return name.replace(/[.-]([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Message id of an entry: `shard.requested` → `shardRequested`; a later version of a name `upgradePlannedV2`. */
export function messageId(entry: Pick<CatalogueEntry, 'name' | 'version'>): string {
  const later = isEventName(entry.name) && catalogue[entry.name].version !== entry.version;
  return `${camelCase(entry.name)}${later ? `V${entry.version}` : ''}`;
}

/** Channel id of a topic: `upshift.migrate-shard` → `migrateShard`. */
export function channelId(topic: Topic): string {
  return camelCase(topic.replace(/^upshift\./, ''));
}

function ceHeaders(entry: CatalogueEntry): JsonSchema {
  const text = { type: 'string' };
  return {
    type: 'object',
    required: ['ce_specversion', 'ce_id', 'ce_source', 'ce_type', 'ce_time', 'content-type'],
    properties: {
      ce_specversion: { type: 'string', const: '1.0' },
      ce_id: { ...text, description: 'Unique per source; consumers deduplicate on (source, id).' },
      ce_source: { ...text, description: '/upshift/<function>, or /upshift/cli for requests.' },
      ce_type: { type: 'string', const: entry.type },
      ce_subject: { ...text, description: `The ${entry.keyField === 'shardId' ? 'shard' : 'run'} id.` },
      ce_time: { ...text, format: 'date-time' },
      ce_datacontenttype: { type: 'string', const: 'application/json' },
      ce_dataschema: { type: 'string', format: 'uri', const: dataSchemaOf(entry.type), description: 'The JSON Schema of data (its $id).' },
      ce_partitionkey: { ...text, description: 'CloudEvents Kafka binding partitionkey; equals the message key.' },
      ce_traceparent: { ...text, description: 'W3C traceparent (CloudEvents distributed tracing extension).' },
      ce_tracestate: { ...text, description: 'W3C tracestate.' },
      'content-type': { type: 'string', const: 'application/json' },
    },
  };
}

function message(entry: CatalogueEntry): JsonSchema {
  const { $schema: _unused, ...payload } = eventDataSchema(entry, 'draft-7');
  return {
    name: entry.type,
    title: entry.name,
    summary: entry.description,
    contentType: 'application/json',
    headers: ceHeaders(entry),
    payload,
    correlationId: { description: 'The run (or shard) id', location: '$message.header#/ce_subject' },
    bindings: { kafka: { key: { type: 'string', description: `data.${entry.keyField}` }, bindingVersion: '0.5.0' } },
  };
}

function channel(topic: Topic, partitions: number): JsonSchema {
  const carried = entries.filter((e) => e.topic === topic);
  const description = topic === LIFECYCLE_TOPIC ? 'Public lifecycle events of every run; users consume this topic.'
    : topic === DEAD_LETTER_TOPIC ? 'Events that violate the contract or exhausted their retries, as delivered.'
    : `Work events consumed by the ${topic.replace('upshift.', '')} function.`;
  return {
    address: topic,
    description,
    messages: Object.fromEntries(carried.map((e) => [messageId(e), { $ref: `#/components/messages/${messageId(e)}` }])),
    bindings: { kafka: { topic, partitions, bindingVersion: '0.5.0' } },
  };
}

function operations(): JsonSchema {
  const ops: JsonSchema = {};
  for (const topic of workTopics) {
    const fn = topic.replace('upshift.', '');
    const carried = entries.filter((e) => e.topic === topic);
    ops[`${channelId(topic)}Receive`] = {
      action: 'receive', title: `${fn} consumes its work events`, channel: { $ref: `#/channels/${channelId(topic)}` },
      messages: carried.map((e) => ({ $ref: `#/channels/${channelId(topic)}/messages/${messageId(e)}` })),
    };
  }
  ops.lifecycleSend = {
    action: 'send', title: 'upshift publishes lifecycle events', channel: { $ref: `#/channels/${channelId(LIFECYCLE_TOPIC)}` },
    messages: entries.filter((e) => e.lifecycle).map((e) => ({ $ref: `#/channels/${channelId(LIFECYCLE_TOPIC)}/messages/${messageId(e)}` })),
  };
  return ops;
}

/** The AsyncAPI 3.1.0 document, as JSON. */
export function asyncApiDocument(version: string): JsonSchema {
  return {
    asyncapi: '3.1.0',
    info: {
      title: 'upshift events',
      version,
      description: 'CloudEvents (binary content mode, Kafka protocol binding) exchanged by upshift\'s functions and published to users. Generated from events/src/catalogue.ts — do not edit.',
    },
    defaultContentType: 'application/json',
    servers: { local: { host: 'localhost:29092', protocol: 'kafka', description: 'The local stack (npm run stack:up).' } },
    channels: Object.fromEntries(topics.map((t) => [channelId(t.topic), channel(t.topic, t.partitions)])),
    operations: operations(),
    components: { messages: Object.fromEntries(entries.map((e) => [messageId(e), message(e)])) },
  };
}
