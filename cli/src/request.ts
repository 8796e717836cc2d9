/**
 * `upshift request <policy.yaml>`: validate locally (exit 2 with every field path), publish
 * `upgrade.requested`, print the run id on stdout; `--wait` follows the run to its terminal
 * lifecycle event (exit 0 completed or dry run planned, 1 otherwise or on timeout).
 */
import { parseCommand, usageError as commandUsageError } from './args.ts';
import { readFileSync } from 'node:fs';
import { logLevel, type KafkaConfig } from 'kafkajs';
import {
  brokersFrom, isSuccess, nameOf, parsePolicyYaml, publishUpgradeRequest, RunId, uuidv7, watchRun,
  type AnyUpshiftEvent, type ContractIssue, type UpgradePolicy,
} from '@upshift/events';

/** Usage of `upshift request`. */
export const requestUsage = `Usage: upshift request <policy.yaml> [--brokers host:port,...] [--wait] [--timeout seconds] [--run-id id]

  --brokers   Kafka bootstrap brokers (default: $KAFKA_BROKERS)
  --wait      wait for the run's terminal lifecycle event; exit 0 if it completed (or a dry run
              was planned), 1 if it was rejected, failed or rolled back
  --timeout   with --wait, give up after this many seconds (default 3600; exit 1)
  --run-id    use this run id instead of a new UUIDv7 (re-publishing the same id is deduplicated)
`;

const options = {
  brokers: { type: 'string' },
  wait: { type: 'boolean', default: false },
  timeout: { type: 'string', default: '3600' },
  'run-id': { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const usageError = (message: string): number => commandUsageError('request', requestUsage, message);

function readPolicy(path: string): { policy: UpgradePolicy } | { problems: readonly ContractIssue[] } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return { problems: [{ path: '(file)', message: `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}` }] };
  }
  const result = parsePolicyYaml(text);
  return result.ok ? { policy: result.policy } : { problems: result.problems };
}

function describe(event: AnyUpshiftEvent): string {
  const data = event.data as { stage?: string; reason?: string; percent?: number; wave?: number };
  const detail = [data.stage, data.wave === undefined ? undefined : `wave ${data.wave}`, data.percent === undefined ? undefined : `${data.percent}%`, data.reason]
    .filter((d) => d !== undefined).join(' ');
  return `${event.time} ${nameOf(event)}${detail ? ` ${detail}` : ''}`;
}

async function waitForEnd(config: KafkaConfig, policy: UpgradePolicy, runId: string, timeoutSeconds: number): Promise<number> {
  const watch = await watchRun(config, runId, { onEvent: (e) => process.stderr.write(`${describe(e)}\n`) });
  let timer: NodeJS.Timeout | undefined;
  try {
    await publish(config, policy, runId);
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutSeconds * 1000)));
    const end = await Promise.race([watch.terminal, timeout]);
    if (end === 'timeout') {
      process.stderr.write(`upshift request: run ${runId} did not end within ${timeoutSeconds}s\n`);
      return 1;
    }
    process.stderr.write(`run ${runId}: ${nameOf(end)}\n`);
    return isSuccess(end) ? 0 : 1;
  } finally {
    clearTimeout(timer);
    await watch.stop();
  }
}

async function publish(config: KafkaConfig, policy: UpgradePolicy, runId: string): Promise<void> {
  const requestedBy = process.env.UPSHIFT_REQUESTED_BY ?? process.env.USER;
  const published = await publishUpgradeRequest(config, policy, { runId, ...(requestedBy ? { requestedBy } : {}) });
  process.stdout.write(`${published.runId}\n`);
  process.stderr.write(`published upgrade.requested for ${policy.metadata.name}: run ${published.runId}, event ${published.eventId}${published.traceId ? `, trace ${published.traceId}` : ''}\n`);
}

/** Kafka settings of the CLI: fail fast (5 s connect, 3 retries), kafkajs logs off (we report errors). */
function kafkaConfigFor(brokers: string[]): KafkaConfig {
  return { clientId: 'upshift-cli', brokers, connectionTimeout: 5000, retry: { retries: 3 }, logLevel: logLevel.NOTHING };
}

/** Checks the options that need no I/O; returns a usage message or the settings. */
function checkOptions(values: { brokers?: string; timeout: string; 'run-id'?: string }): string | { brokers: string[]; timeout: number; runId: string } {
  const timeout = Number(values.timeout);
  if (!Number.isFinite(timeout) || timeout <= 0) return `--timeout must be a positive number of seconds, got "${values.timeout}"`;
  const brokers = brokersFrom(values.brokers ?? process.env.KAFKA_BROKERS);
  if (brokers.length === 0) return 'no Kafka brokers: pass --brokers or set KAFKA_BROKERS';
  const badBroker = brokers.find((b) => !/^[^\s:]+:[0-9]{1,5}$/.test(b));
  if (badBroker !== undefined) return `--brokers: "${badBroker}" is not host:port`;
  const runId = values['run-id'] ?? uuidv7();
  const checked = RunId.safeParse(runId);
  if (!checked.success) return `--run-id: ${checked.error.issues[0]?.message ?? 'invalid run id'}`;
  return { brokers, timeout, runId };
}

/** Runs `upshift request`; returns the exit code. */
export async function runRequest(args: readonly string[]): Promise<number> {
  const parsed = parseCommand('request', requestUsage, args, options);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1 || positionals[0] === undefined) return usageError('expected exactly one policy file');
  const read = readPolicy(positionals[0]);
  if ('problems' in read) {
    process.stderr.write(`${positionals[0]}: invalid UpgradePolicy (${read.problems.length} problem${read.problems.length === 1 ? '' : 's'})\n`);
    for (const p of read.problems) process.stderr.write(`  ${p.path}: ${p.message}\n`);
    return 2;
  }
  const settings = checkOptions(values);
  if (typeof settings === 'string') return usageError(settings);
  const config = kafkaConfigFor(settings.brokers);
  if (values.wait) return waitForEnd(config, read.policy, settings.runId, settings.timeout);
  await publish(config, read.policy, settings.runId);
  return 0;
}
