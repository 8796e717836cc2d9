/**
 * One Apache Kafka node in KRaft mode (combined broker and controller) run from the stack's cached jars:
 * the stack's shared broker is one, and so is the short-lived private broker a fault test stops and
 * starts without touching the shared one (`startPrivateKafka`). Same server properties, JVM arguments,
 * storage format and readiness probe for both; only the run dir, ports and heap differ.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { cacheDirFor } from './paths.ts';
import { logFile, runningPid, startDaemon, stopDaemon, waitUntil } from './process.ts';
import { run } from './run.ts';
import { versions } from './versions.ts';

/** Where the jars of the pinned Kafka version are cached (`kafka.install()` fills it). */
export const kafkaCacheDir = cacheDirFor('kafka', versions.kafka);
/** Written by `kafka.install()` once every jar is in place. */
export const kafkaInstalledMarker = join(kafkaCacheDir, '.complete');
const libDir = join(kafkaCacheDir, 'lib');

/** Where and how one node runs. */
export interface KafkaNodeSpec {
  /** Daemon name: `<name>.pid` and `<name>.log` in the run dir. */
  readonly name: string;
  /** Holds server.properties, log4j2.yaml, the KRaft data dir (`data/`), the pid and log files. */
  readonly runDir: string;
  readonly ports: { readonly broker: number; readonly controller: number };
  /** JVM heap, e.g. { initial: '256m', max: '512m' }. */
  readonly heap: { readonly initial: string; readonly max: string };
  /** JVM tuning flags (garbage collector, JIT); default G1, the server default. */
  readonly jvmTuning?: readonly string[];
  /** Server properties set over the common ones. */
  readonly properties?: Readonly<Record<string, string>>;
}

/** A node's lifecycle. start and stop are idempotent; the data dir survives stop, so a start resumes it. */
export interface KafkaNode {
  /** The bootstrap list clients use: `127.0.0.1:<broker port>`. */
  readonly brokers: string;
  readonly dataDir: string;
  readonly log: string;
  /** Writes the config, formats the storage the first time, starts the daemon and waits until it lists topics. */
  start(options?: { timeoutMs?: number }): Promise<void>;
  /** Sends `signal` (default SIGTERM: a controlled shutdown) to the process group, SIGKILL after `graceMs`. */
  stop(options?: { signal?: NodeJS.Signals; graceMs?: number }): Promise<void>;
  /** The pid while the daemon runs. */
  pid(): number | undefined;
  /** True when an admin client lists topics. */
  ready(): Promise<boolean>;
}

/** A Kafka node as described by `spec`. */
export function kafkaNode(spec: KafkaNodeSpec): KafkaNode {
  const brokers = `127.0.0.1:${spec.ports.broker}`;
  const dataDir = join(spec.runDir, 'data');
  const propertiesFile = join(spec.runDir, 'server.properties');
  const log4jFile = join(spec.runDir, 'log4j2.yaml');
  const jvmArgs = [
    `-Xms${spec.heap.initial}`,
    `-Xmx${spec.heap.max}`,
    ...(spec.jvmTuning ?? ['-XX:+UseG1GC']),
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${log4jFile}`,
    // Quoted so Java, not a shell, expands the wildcard.
    '-cp',
    `${libDir}/*`,
  ];
  const ready = () => canListTopics(brokers);
  return {
    brokers, dataDir, log: logFile(spec.runDir, spec.name), ready,
    pid: () => runningPid(spec.runDir, spec.name),
    async start(options = {}) {
      if (runningPid(spec.runDir, spec.name)) return;
      if (!existsSync(kafkaInstalledMarker)) throw new Error(`kafka: no jars in ${kafkaCacheDir}; run node stack/src/cli.ts up kafka first`);
      mkdirSync(spec.runDir, { recursive: true });
      const overrides = Object.entries(spec.properties ?? {}).map(([key, value]) => `${key}=${value}\n`).join('');
      writeFileSync(propertiesFile, serverProperties(spec.ports, dataDir) + overrides);
      writeFileSync(log4jFile, log4jConfig);
      if (!existsSync(join(dataDir, 'meta.properties'))) {
        await run('java', [...jvmArgs, 'kafka.tools.StorageTool', 'format', '-t', randomUUID(), '-c', propertiesFile], {
          logTo: join(spec.runDir, 'format.log'),
          what: `${spec.name}: formatting KRaft storage`,
        });
      }
      startDaemon({ name: spec.name, runDir: spec.runDir, command: 'java', args: [...jvmArgs, 'kafka.Kafka', propertiesFile] });
      const timeoutMs = options.timeoutMs ?? 120_000;
      await waitUntil(spec.name, ready, { timeoutMs, log: logFile(spec.runDir, spec.name), daemon: { runDir: spec.runDir, name: spec.name } });
    },
    async stop(options = {}) {
      await stopDaemon(spec.runDir, spec.name, { graceMs: options.graceMs ?? 30_000, ...(options.signal ? { signal: options.signal } : {}) });
    },
  };
}

/** A private broker of one test: its own run dir and ports, stopped and started by the test. */
export interface PrivateKafka {
  /** The bootstrap list (KAFKA_BROKERS). */
  readonly brokers: string;
  readonly ports: { readonly broker: number; readonly controller: number };
  readonly log: string;
  /** Stops the broker with `signal` (SIGTERM: controlled shutdown; SIGKILL: a crash); its data stays. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same ports and data dir; resolves when it lists topics. */
  start(): Promise<void>;
}

/**
 * Starts a small private broker (heap at most 384 MB) in `dir` on free loopback ports below Linux's ephemeral
 * range (so no outgoing connection takes a port while the broker is down). The process is killed when
 * this process exits, should the test not stop it.
 */
export async function startPrivateKafka(options: { dir: string; name?: string; ports?: { broker: number; controller: number } }): Promise<PrivateKafka> {
  const ports = options.ports ?? { broker: await freeFixedPort(), controller: await freeFixedPort() };
  const name = options.name ?? 'kafka-private';
  const node = kafkaNode({
    name, runDir: options.dir, ports, heap: { initial: '128m', max: '384m' },
    // Serial GC and the C1 compiler only: less CPU at start, so a restart is quick on a busy machine.
    jvmTuning: ['-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1'],
    // After a crash the restarted node's broker waits for its previous incarnation's session to expire
    // before it registers (9 s by default): a 3 s session makes a killed broker come back sooner.
    properties: { 'broker.session.timeout.ms': '3000', 'broker.heartbeat.interval.ms': '1000' },
  });
  const killOnExit = () => {
    const pid = node.pid();
    if (pid) try { process.kill(-pid, 'SIGKILL'); } catch { /* already gone */ }
  };
  process.once('exit', killOnExit);
  await node.start({ timeoutMs: 90_000 });
  return {
    brokers: node.brokers, ports, log: node.log,
    stop: (signal = 'SIGTERM') => node.stop({ signal, graceMs: 20_000 }),
    start: () => node.start({ timeoutMs: 90_000 }),
  };
}

/**
 * A loopback port that is free now, picked at random from 30000–32767: under the ephemeral range
 * (32768–60999), where an outgoing connection could take it between a stop and a start.
 */
async function freeFixedPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 30_000 + Math.floor(Math.random() * 2768);
    if (await canBind(port)) return port;
  }
  throw new Error('no free loopback port in 30000-32767');
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function canListTopics(brokers: string): Promise<boolean> {
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

function serverProperties(ports: KafkaNodeSpec['ports'], dataDir: string): string {
  return `process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${ports.controller}
listeners=PLAINTEXT://127.0.0.1:${ports.broker},CONTROLLER://127.0.0.1:${ports.controller}
advertised.listeners=PLAINTEXT://127.0.0.1:${ports.broker}
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
