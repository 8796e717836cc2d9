import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Component, ComponentStatus } from '../component.ts';
import { kafkaCacheDir, kafkaInstalledMarker, kafkaNode } from '../kafka-instance.ts';
import { runDirFor } from '../paths.ts';
import { assertPortsFree, daemonStatus } from '../process.ts';
import { run } from '../run.ts';
import { installKcat } from '../kcat.ts';
import { ports, versions } from '../versions.ts';

const name = 'kafka';
const runDir = runDirFor(name);
/** The shared broker every test and the demo use; its config, JVM and probe are kafka-instance.ts's. */
const node = kafkaNode({ name, runDir, ports: { broker: ports.kafka, controller: ports.kafkaController }, heap: { initial: '256m', max: '512m' } });

/** Apache Kafka in KRaft mode, one combined broker+controller node, from Maven Central jars. */
export const kafka: Component = {
  name,
  version: versions.kafka,
  externalEnv: 'KAFKA_BROKERS',

  async install() {
    await installKcat(); // the interop tests' client, wherever the broker comes from
    if (existsSync(kafkaInstalledMarker)) return;
    mkdirSync(kafkaCacheDir, { recursive: true });
    writeFileSync(join(kafkaCacheDir, 'pom.xml'), pom());
    await run('mvn', ['-q', '-B', 'dependency:copy-dependencies', `-DoutputDirectory=${join(kafkaCacheDir, 'lib')}`, '-DincludeScope=runtime'], {
      cwd: kafkaCacheDir,
      logTo: join(kafkaCacheDir, 'install.log'),
      what: `kafka: fetching kafka_${versions.scala} ${versions.kafka} jars from Maven Central`,
    });
    writeFileSync(kafkaInstalledMarker, new Date().toISOString());
  },

  async start() {
    if (node.pid()) return;
    await assertPortsFree(name, [ports.kafka, ports.kafkaController]);
    await node.start({ timeoutMs: 120_000 });
  },

  async stop() {
    await node.stop({ graceMs: 30_000 });
  },

  async status(): Promise<ComponentStatus[]> {
    return [await daemonStatus({ name, version: versions.kafka, runDir, endpoints: { brokers: node.brokers }, probe: node.ready })];
  },

  env() {
    return { KAFKA_BROKERS: node.brokers };
  },
};

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
