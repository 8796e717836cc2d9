import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { Component, ComponentStatus } from '../component.ts';
import { cacheDirFor, runDirFor } from '../paths.ts';
import { assertPortsFree, daemonStatus, logFile, runningPid, startDaemon, stopDaemon, waitUntil } from '../process.ts';
import { run } from '../run.ts';
import { ports, versions } from '../versions.ts';

const name = 'kafka';
const cacheDir = cacheDirFor(name, versions.kafka);
const libDir = join(cacheDir, 'lib');
const completeMarker = join(cacheDir, '.complete');
const runDir = runDirFor(name);
const dataDir = join(runDir, 'data');
const propertiesFile = join(runDir, 'server.properties');
const brokers = `127.0.0.1:${ports.kafka}`;

/** Apache Kafka in KRaft mode, one combined broker+controller node, from Maven Central jars. */
export const kafka: Component = {
  name,
  version: versions.kafka,
  externalEnv: 'KAFKA_BROKERS',

  async install() {
    if (existsSync(completeMarker)) return;
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(join(cacheDir, 'pom.xml'), pom());
    await run('mvn', ['-q', '-B', 'dependency:copy-dependencies', `-DoutputDirectory=${libDir}`, '-DincludeScope=runtime'], {
      cwd: cacheDir,
      logTo: join(cacheDir, 'install.log'),
      what: `kafka: fetching kafka_${versions.scala} ${versions.kafka} jars from Maven Central`,
    });
    writeFileSync(completeMarker, new Date().toISOString());
  },

  async start() {
    if (runningPid(runDir, name)) return;
    await assertPortsFree(name, [ports.kafka, ports.kafkaController]);
    mkdirSync(runDir, { recursive: true });
    writeFileSync(propertiesFile, serverProperties());
    writeFileSync(join(runDir, 'log4j2.yaml'), log4jConfig);
    if (!existsSync(join(dataDir, 'meta.properties'))) {
      await run('java', [...jvmArgs(), 'kafka.tools.StorageTool', 'format', '-t', randomUUID(), '-c', propertiesFile], {
        logTo: join(runDir, 'format.log'),
        what: 'kafka: formatting KRaft storage',
      });
    }
    startDaemon({ name, runDir, command: 'java', args: [...jvmArgs(), 'kafka.Kafka', propertiesFile] });
    await waitUntil(name, canListTopics, { timeoutMs: 120_000, log: logFile(runDir, name), daemon: { runDir, name } });
  },

  async stop() {
    await stopDaemon(runDir, name, { graceMs: 30_000 });
  },

  async status(): Promise<ComponentStatus[]> {
    return [await daemonStatus({ name, version: versions.kafka, runDir, endpoints: { brokers }, probe: canListTopics })];
  },

  env() {
    return { KAFKA_BROKERS: brokers };
  },
};

function jvmArgs(): string[] {
  return [
    '-Xms256m',
    '-Xmx512m',
    '-XX:+UseG1GC',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${join(runDir, 'log4j2.yaml')}`,
    // Quoted so Java, not a shell, expands the wildcard.
    '-cp',
    `${libDir}/*`,
  ];
}

async function canListTopics(): Promise<boolean> {
  const admin = new Kafka({ clientId: 'upshift-stack', brokers: [brokers], logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
  try {
    await admin.connect();
    await admin.listTopics();
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

function serverProperties(): string {
  return `process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${ports.kafkaController}
listeners=PLAINTEXT://127.0.0.1:${ports.kafka},CONTROLLER://127.0.0.1:${ports.kafkaController}
advertised.listeners=PLAINTEXT://127.0.0.1:${ports.kafka}
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=${dataDir}
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=5
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
delete.topic.enable=true
log.retention.hours=24
`;
}

const log4jConfig = `Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: WARN
      AppenderRef:
        - ref: STDOUT
    Logger:
      - name: kafka.server.KafkaServer
        level: INFO
      - name: kafka.server.BrokerServer
        level: INFO
`;

function pom(): string {
  const dependency = (group: string, artifact: string, version: string) =>
    `<dependency><groupId>${group}</groupId><artifactId>${artifact}</artifactId><version>${version}</version></dependency>`;
  return `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.upshift.stack</groupId>
  <artifactId>kafka-server</artifactId>
  <version>1</version>
  <dependencies>
    ${dependency('org.apache.kafka', `kafka_${versions.scala}`, versions.kafka)}
    ${dependency('org.apache.logging.log4j', 'log4j-slf4j-impl', '2.25.4')}
    ${dependency('org.apache.logging.log4j', 'log4j-core', '2.25.4')}
  </dependencies>
</project>
`;
}
