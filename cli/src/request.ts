/**
 * `upshift request <policy.yaml>`: validate locally (exit 2 with every field path), publish
 * `upgrade.requested` (to the plan topic under `--topic-prefix`, as the functions' UPSHIFT_TOPIC_PREFIX),
 * print the run id on stdout; `--wait` follows the run on the same prefix's lifecycle topic to its
 * terminal event (exit 0 completed or dry run planned, 1 otherwise or on timeout).
 */
import { parseCommand, topicPrefixOption, usageError as commandUsageError } from './args.ts';
import {
  brokersFrom, isSuccess, isTerminal, nameOf, RunId, uuidv7,
  type AnyUpshiftEvent, type KafkaConnection, type UpgradePolicy,
} from '@upshift/events';
import { invalidPolicyText, policyLabel, readPolicy } from './policy-file.ts';
import { validatePolicyFile } from './validate.ts';
import { cliKafkaConfig, ensureTopicsUnder, publishRequest } from './publish.ts';
import { followLifecycle } from './watch/lifecycle.ts';
import { waveLabel } from './waves.ts';
import { line } from './escape.ts';

/** Usage of `upshift request`. */
export const requestUsage = `Usage: upshift request <policy.yaml|-> [--brokers host:port,...] [--topic-prefix p] [--wait] [--timeout seconds] [--run-id id]
       upshift request <policy.yaml|-> --dry-run [--connect] [--catalog dir]

  -               read the policy from stdin
  --dry-run       validate only, publish nothing (as \`upshift validate\`: exit 0 valid, 2 invalid)
  --connect       with --dry-run, also run plan's preflight against the clusters and stores (read-only)
  --catalog       with --connect, the migration catalog (default: $UPSHIFT_CATALOG_DIR, else examples/catalog)
  --brokers       Kafka bootstrap brokers (default: $KAFKA_BROKERS, else the context file)
  --topic-prefix  topic prefix the functions use (default: $UPSHIFT_TOPIC_PREFIX, else none)
  --wait          wait for the run's terminal lifecycle event; exit 0 if it completed (or a dry run
                  was planned), 1 if it was rejected, failed or rolled back
  --timeout       with --wait, give up after this many seconds (default 3600; exit 1)
  --run-id        use this run id instead of a new UUIDv7 (re-publishing the same id is deduplicated)
`;

const options = {
  brokers: { type: 'string' },
  'topic-prefix': { type: 'string' },
  wait: { type: 'boolean', default: false },
  timeout: { type: 'string', default: '3600' },
  'run-id': { type: 'string' },
  'dry-run': { type: 'boolean', default: false },
  connect: { type: 'boolean', default: false },
  catalog: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const usageError = (message: string): number => commandUsageError('request', requestUsage, message);

export { invalidPolicyText } from './policy-file.ts';

/** What a run's settings are once checked. */
interface RequestSettings {
  readonly brokers: string[];
  readonly topicPrefix: string;
  readonly timeout: number;
  readonly runId: string;
}

/**
 * One line per lifecycle event for `--wait` (waves counted from 1: "wave 2 of 3"); remembers the
 * number of waves from `upgrade.planned` for the events that do not carry it.
 */
export function lifecycleDescriber(): (event: AnyUpshiftEvent) => string {
  let waves: number | undefined;
  return (event) => {
    const data = event.data as { stage?: string; reason?: string; percent?: number; wave?: number; waves?: unknown };
    const planned = Array.isArray(data.waves) ? data.waves.length : undefined;
    waves = planned ?? (typeof data.waves === 'number' ? data.waves : waves);
    const detail = [
      data.stage,
      data.wave === undefined ? undefined : waveLabel(data.wave, waves),
      planned === undefined ? undefined : `${planned} waves`,
      data.percent === undefined ? undefined : `${data.percent}%`,
      data.reason,
    ].filter((d) => d !== undefined).join(' ');
    return `${event.time} ${nameOf(event)}${detail ? ` ${detail}` : ''}`;
  };
}

/** Follows the prefix's lifecycle topic from now, publishes, and waits for the run's terminal event. */
async function waitForEnd(config: KafkaConnection, policy: UpgradePolicy, settings: RequestSettings): Promise<number> {
  const { runId, topicPrefix, timeout: timeoutSeconds } = settings;
  await ensureTopicsUnder(config, topicPrefix); // the lifecycle topic is followed before the request exists
  let finish: (event: AnyUpshiftEvent) => void = () => undefined;
  const terminal = new Promise<AnyUpshiftEvent>((resolve) => (finish = resolve));
  const describe = lifecycleDescriber();
  const feed = await followLifecycle(settings.brokers, topicPrefix, runId, (event) => {
    process.stderr.write(line(describe(event)));
    if (isTerminal(event)) finish(event);
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await publish(config, policy, settings);
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutSeconds * 1000)));
    const end = await Promise.race([terminal, timeout]);
    if (end === 'timeout') {
      process.stderr.write(line(`upshift request: run ${runId} did not end within ${timeoutSeconds}s`));
      return 1;
    }
    process.stderr.write(line(`run ${runId}: ${nameOf(end)}`));
    return isSuccess(end) ? 0 : 1;
  } finally {
    clearTimeout(timer);
    await feed.stop();
  }
}

async function publish(config: KafkaConnection, policy: UpgradePolicy, settings: RequestSettings): Promise<void> {
  const requestedBy = process.env.UPSHIFT_REQUESTED_BY ?? process.env.USER;
  const published = await publishRequest(config, policy, { runId: settings.runId, topicPrefix: settings.topicPrefix, ...(requestedBy ? { requestedBy } : {}) });
  process.stdout.write(line(published.runId));
  const where = settings.topicPrefix ? ` (topics ${settings.topicPrefix}*)` : '';
  process.stderr.write(line(`published upgrade.requested for ${policy.metadata.name}${where}: run ${published.runId}, event ${published.eventId}${published.traceId ? `, trace ${published.traceId}` : ''}`));
}

/** Checks the options that need no I/O; returns a usage message or the settings. */
function checkOptions(values: { brokers?: string; 'topic-prefix'?: string; timeout: string; 'run-id'?: string }): string | RequestSettings {
  const timeout = Number(values.timeout);
  if (!Number.isFinite(timeout) || timeout <= 0) return `--timeout must be a positive number of seconds, got "${values.timeout}"`;
  const brokers = brokersFrom(values.brokers ?? process.env.KAFKA_BROKERS);
  if (brokers.length === 0) return 'no Kafka brokers: pass --brokers or set KAFKA_BROKERS';
  const badBroker = brokers.find((b) => !/^[^\s:]+:[0-9]{1,5}$/.test(b));
  if (badBroker !== undefined) return `--brokers: "${badBroker}" is not host:port`;
  const runId = values['run-id'] ?? uuidv7();
  const checked = RunId.safeParse(runId);
  if (!checked.success) return `--run-id: ${checked.error.issues[0]?.message ?? 'invalid run id'}`;
  const topicPrefix = topicPrefixOption(values['topic-prefix']);
  if (typeof topicPrefix !== 'string') return topicPrefix.problem;
  return { brokers, topicPrefix, timeout, runId };
}

/** Runs `upshift request`; returns the exit code. */
export async function runRequest(args: readonly string[]): Promise<number> {
  const parsed = parseCommand('request', requestUsage, args, options);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1 || positionals[0] === undefined) return usageError('expected exactly one policy file');
  if (values['dry-run']) return validatePolicyFile(positionals[0], { connect: values.connect, catalog: values.catalog });
  if (values.connect || values.catalog !== undefined) return usageError('--connect and --catalog go with --dry-run');
  const read = readPolicy(positionals[0]);
  if ('problems' in read) {
    process.stderr.write(invalidPolicyText(policyLabel(positionals[0]), read.problems));
    return 2;
  }
  const settings = checkOptions(values);
  if (typeof settings === 'string') return usageError(settings);
  const config = cliKafkaConfig(settings.brokers);
  if (values.wait) return waitForEnd(config, read.policy, settings);
  await publish(config, read.policy, settings);
  return 0;
}
