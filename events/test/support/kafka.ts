/** Test support for the real-Kafka tests: brokers from the stack env, kcat, unique ids. */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { brokersFrom, type KafkaConnection } from '../../src/index.ts';

/** Brokers from KAFKA_BROKERS (`eval "$(node stack/src/cli.ts env)"`). */
export const brokers = brokersFrom(process.env.KAFKA_BROKERS);

/** Why a real-Kafka test is skipped, or false when Kafka is configured. */
export const needsKafka: string | false = brokers.length === 0 ? 'KAFKA_BROKERS not set: eval "$(node stack/src/cli.ts env)" with the stack up' : false;

/**
 * Why a kcat interop test is skipped: only when Kafka is not configured. A missing kcat is a failure, not a
 * skip (the stack installs it: stack/src/kcat.ts), so the interop tests never go quiet on a machine.
 */
export const needsKcat: string | false = needsKafka;

/** The connection of the tests (quiet). */
export const connection: KafkaConnection = { clientId: 'upshift-events-test', brokers, logs: 'none' };

/** A fresh run id for one test (DNS-label shaped). */
export function testRunId(): string {
  return `t-${randomUUID()}`;
}

/** Runs kcat with arguments (and stdin), returning stdout. */
export function kcat(args: readonly string[], input?: string): string {
  if (spawnSync('kcat', ['-V']).status !== 0) throw new Error('kcat is not installed: the stack installs it (node stack/src/cli.ts up), or apt-get install kcat');
  return execFileSync('kcat', ['-b', brokers.join(','), ...args], { input, encoding: 'utf8', timeout: 30_000 });
}

/** Resolves when `predicate` holds for a value pushed to `seen`, or rejects after `ms`. */
export function eventually<T>(seen: T[], predicate: (value: T) => boolean, ms = 30_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      const hit = seen.find(predicate);
      if (hit !== undefined) { clearInterval(timer); resolve(hit); }
      else if (Date.now() - started > ms) { clearInterval(timer); reject(new Error(`not seen within ${ms} ms`)); }
    }, 50);
  });
}
