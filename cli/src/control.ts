/**
 * `upshift pause|resume|abort|throttle|retry|promote <run>`: publish an operator control (`run.control.requested`)
 * to verify's topic under `--topic-prefix`, like `upshift request` publishes a request; print the control
 * id; `--wait` follows the lifecycle topic for the matching `run.control.applied` and prints it (exit 0
 * applied, 1 ignored or no answer in time). Who asked is `user@host` unless `--as` says otherwise.
 */
import { randomUUID } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import {
  brokersFrom, ControlTarget, isEventOf, publishRunControl, RequestedBy, RunId, runControlEvent, Throttle,
  type AnyUpshiftEvent, type ControlAction, type EventData, type KafkaConnection, type RunControlRequested,
} from '@upshift/events';
import { parseCommand, topicPrefixOption, usageError } from './args.ts';
import { line } from './escape.ts';
import { cliKafkaConfig, ensureTopicsUnder } from './publish.ts';
import { followLifecycle } from './watch/lifecycle.ts';
import { controlAnswerText } from './status/control.ts';

/** The control commands: what each one asks and the options only it takes. */
const actions = {
  pause: { summary: 'pause a run: shards stop after their current batch, the next stage waits (state kept across restarts)', own: '' },
  resume: { summary: 'resume a paused run: what was held goes on, paused shards continue from their checkpoints', own: '' },
  abort: { summary: 'abort a run now: its failure policy applies (rollback or freeze) as if a stage failed; a frozen run rolls back', own: '' },
  rollback: {
    summary: 'roll back a frozen run (one that failed under failurePolicy: freeze): its compensations run as a failed stage\'s would',
    own: `  (publishes an abort: on a frozen run verify rolls it back; on a running run the failure policy applies)
`,
    action: 'abort',
  },
  throttle: {
    summary: 'slow a run\'s shards down from their next batch: rows per second, batch size, pause between batches',
    own: `  --rows-per-second N  at most N rows per second per shard (1..10000000)
  --batch-size N       batches of at most N rows (1..100000), on top of the adaptive size
  --pause-ms N         wait N ms between batches (0..600000)
  --clear              remove the throttle
`,
  },
  retry: {
    summary: 'run a failed shard again from its last checkpoint, or make a frozen run go on from the wave it stopped at',
    own: `  --shard ID           the failed shard (<run>:<migration@version>:<index>, as upshift status lists it)
  --wave N             the wave a frozen run stopped at, counted from 1 (rolled out again with a new deadline)
`,
  },
  promote: {
    summary: 'let a run waiting at a gate (strategy.gates) start the gated wave',
    own: `  --wave N             the gated wave, counted from 1 (default: the gate the run waits at)
`,
  },
} as const satisfies Record<string, { summary: string; own: string; action?: ControlAction }>;

/** The control commands' names. */
export type ControlCommand = keyof typeof actions;

/** The action a control command publishes (its own name, but `rollback` publishes `abort`). */
function actionOf(command: ControlCommand): ControlAction {
  const entry = actions[command];
  return 'action' in entry ? entry.action : command as ControlAction;
}

/** Every control command with its summary (for the command table). */
export const controlCommands: ReadonlyArray<{ name: ControlCommand; summary: string }> = (Object.keys(actions) as ControlCommand[]).map((name) => ({ name, summary: actions[name].summary }));

/** Usage of one control command. */
export function controlUsage(action: ControlCommand): string {
  const flags = action === 'throttle' ? ' (--rows-per-second N | --batch-size N | --pause-ms N | --clear)' : action === 'retry' ? ' (--shard ID | --wave N)' : action === 'promote' ? ' [--wave N]' : '';
  return `Usage: upshift ${action} <run-id>${flags} [--reason text] [--as who] [--wait] [--timeout seconds] [--brokers host:port,...] [--topic-prefix p]

  ${actions[action].summary}
${actions[action].own}  --reason text        why (recorded with the control, at most 500 characters)
  --as who             who asks (default: user@host of this shell)
  --wait               wait for verify's answer (run.control.applied) and print it: exit 0 applied, 1 ignored
  --timeout seconds    with --wait, give up after this long (default 60; exit 1)
  --brokers list       Kafka bootstrap brokers (default: $KAFKA_BROKERS)
  --topic-prefix p     topic prefix the functions use (default: $UPSHIFT_TOPIC_PREFIX, else none)
`;
}

const options = {
  brokers: { type: 'string' },
  'topic-prefix': { type: 'string' },
  reason: { type: 'string' },
  as: { type: 'string' },
  wait: { type: 'boolean', default: false },
  timeout: { type: 'string', default: '60' },
  'rows-per-second': { type: 'string' },
  'batch-size': { type: 'string' },
  'pause-ms': { type: 'string' },
  clear: { type: 'boolean', default: false },
  shard: { type: 'string' },
  wave: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

type Values = { [K in keyof typeof options]?: (typeof options)[K]['type'] extends 'boolean' ? boolean : string };

/** Who asks, as the CLI records it: `user@host`. */
export function defaultRequester(): string {
  return `${userInfo().username}@${hostname()}`.slice(0, 200);
}

/** What a control command publishes and where, once its options are checked. */
interface ControlSettings {
  readonly brokers: string[];
  readonly topicPrefix: string;
  readonly timeout: number;
  readonly control: RunControlRequested;
}

function integer(flag: string, value: string | undefined): number | undefined | string {
  if (value === undefined) return undefined;
  return /^\d+$/.test(value) ? Number(value) : `--${flag} must be a whole number, got "${value}"`;
}

/** The throttle of `upshift throttle`'s flags, or what is wrong with them. */
export function throttleOf(values: Values): RunControlRequested['throttle'] | string {
  if (values.clear === true) {
    return values['rows-per-second'] ?? values['batch-size'] ?? values['pause-ms'] ? '--clear takes no limits' : {};
  }
  const parts = { rowsPerSecond: integer('rows-per-second', values['rows-per-second']), batchSize: integer('batch-size', values['batch-size']), pauseMs: integer('pause-ms', values['pause-ms']) };
  const wrong = Object.values(parts).find((part) => typeof part === 'string');
  if (typeof wrong === 'string') return wrong;
  const throttle = Object.fromEntries(Object.entries(parts).filter(([, v]) => v !== undefined));
  if (Object.keys(throttle).length === 0) return 'give --rows-per-second, --batch-size or --pause-ms (or --clear)';
  const checked = Throttle.safeParse(throttle);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    const flag = { rowsPerSecond: 'rows-per-second', batchSize: 'batch-size', pauseMs: 'pause-ms' }[String(issue?.path[0])] ?? 'throttle';
    return `--${flag}: ${issue?.message ?? 'out of range'}`;
  }
  return checked.data;
}

/** The target of `upshift retry`'s flags (a wave counted from 1 becomes the event's 0-based wave), or what is wrong. */
export function retryTargetOf(values: Values): RunControlRequested['target'] | string {
  if ((values.shard === undefined) === (values.wave === undefined)) return 'give exactly one of --shard or --wave';
  if (values.shard !== undefined) {
    const checked = ControlTarget.safeParse({ kind: 'shard', shardId: values.shard });
    return checked.success ? checked.data : `--shard: ${checked.error.issues[0]?.message ?? 'not a shard id'}`;
  }
  const wave = integer('wave', values.wave);
  if (typeof wave !== 'number' || wave < 1) return typeof wave === 'string' ? wave : '--wave counts from 1';
  return { kind: 'wave', wave: wave - 1 };
}

/** The target of `upshift promote`'s `--wave` (counted from 1; the event's wave is 0-based), none without it, or what is wrong. */
export function promoteTargetOf(values: Values): RunControlRequested['target'] | string {
  if (values.shard !== undefined) return 'promote takes --wave, not --shard';
  if (values.wave === undefined) return undefined;
  const wave = integer('wave', values.wave);
  if (typeof wave !== 'number' || wave < 1) return typeof wave === 'string' ? wave : '--wave counts from 1';
  return { kind: 'wave', wave: wave - 1 };
}

/** Checks a control command's arguments without I/O; returns a usage message or the settings. */
export function controlSettings(command: ControlCommand, runId: string | undefined, values: Values, controlId: string = randomUUID()): string | ControlSettings {
  const action = actionOf(command);
  if (runId === undefined) return 'expected exactly one run id';
  if (!RunId.safeParse(runId).success) return `"${runId}" is not a run id`;
  const timeout = Number(values.timeout ?? '60');
  if (!Number.isFinite(timeout) || timeout <= 0) return `--timeout must be a positive number of seconds, got "${values.timeout}"`;
  const brokers = brokersFrom(values.brokers ?? process.env.KAFKA_BROKERS);
  if (brokers.length === 0) return 'no Kafka brokers: pass --brokers or set KAFKA_BROKERS';
  const badBroker = brokers.find((b) => !/^[^\s:]+:[0-9]{1,5}$/.test(b));
  if (badBroker !== undefined) return `--brokers: "${badBroker}" is not host:port`;
  const topicPrefix = topicPrefixOption(values['topic-prefix']);
  if (typeof topicPrefix !== 'string') return topicPrefix.problem;
  const requestedBy = values.as ?? defaultRequester();
  if (!RequestedBy.safeParse(requestedBy).success) return '--as: 1 to 200 characters';
  if (values.reason !== undefined && values.reason.length > 500) return '--reason: at most 500 characters';
  const throttle = action === 'throttle' ? throttleOf(values) : undefined;
  if (typeof throttle === 'string') return throttle;
  const target = action === 'retry' ? retryTargetOf(values) : action === 'promote' ? promoteTargetOf(values) : undefined;
  if (typeof target === 'string') return target;
  const control: RunControlRequested = {
    runId, controlId, action, requestedBy, ...(values.reason ? { reason: values.reason } : {}), ...(throttle ? { throttle } : {}), ...(target ? { target } : {}),
  };
  return { brokers, topicPrefix, timeout, control };
}

/** Publishes the control and reports it (the control id on stdout). */
async function publish(config: KafkaConnection, settings: ControlSettings): Promise<void> {
  const event = await publishRunControl(config, settings.control, { producer: 'cli', topicPrefix: settings.topicPrefix });
  process.stdout.write(line(event.data.controlId));
  const where = settings.topicPrefix ? ` (topics ${settings.topicPrefix}*)` : '';
  process.stderr.write(line(`published ${settings.control.action} of run ${settings.control.runId} as ${settings.control.requestedBy}${where}: control ${event.data.controlId}`));
}

/** Follows the lifecycle topic from now, publishes, and waits for the control's answer. */
async function publishAndWait(config: KafkaConnection, settings: ControlSettings): Promise<number> {
  const { control } = settings;
  await ensureTopicsUnder(config, settings.topicPrefix); // followed before the control is published
  let answered: (data: EventData<'run.control.applied'>) => void = () => undefined;
  const answer = new Promise<EventData<'run.control.applied'>>((resolve) => (answered = resolve));
  const feed = await followLifecycle(settings.brokers, settings.topicPrefix, control.runId, (event: AnyUpshiftEvent) => {
    if (isEventOf(event, 'run.control.applied') && event.data.controlId === control.controlId) answered(event.data as EventData<'run.control.applied'>);
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await publish(config, settings);
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), settings.timeout * 1000)));
    const end = await Promise.race([answer, timeout]);
    if (end === 'timeout') {
      process.stderr.write(line(`upshift ${control.action}: no answer for control ${control.controlId} within ${settings.timeout}s (is verify running?)`));
      return 1;
    }
    process.stdout.write(controlAnswerText(end));
    return end.outcome === 'applied' ? 0 : 1;
  } finally {
    clearTimeout(timer);
    await feed.stop();
  }
}

/** Runs one control command; returns the exit code. */
export async function runControl(action: ControlCommand, args: readonly string[]): Promise<number> {
  const usage = controlUsage(action);
  const parsed = parseCommand(action, usage, args, options);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length > 1) return usageError(action, usage, 'expected exactly one run id');
  const settings = controlSettings(action, positionals[0], values);
  if (typeof settings === 'string') return usageError(action, usage, settings);
  runControlEvent(settings.control, 'cli'); // validates before anything is sent
  const config = cliKafkaConfig(settings.brokers);
  if (values.wait) return publishAndWait(config, settings);
  await publish(config, settings);
  return 0;
}
