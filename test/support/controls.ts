/**
 * Operator controls in the end-to-end tests: publish a `run.control.requested` as the CLI would and wait
 * for verify's answer on the harness's lifecycle feed, or run the `upshift` CLI itself against the
 * harness's topics and control store.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { isEventOf, publishRunControl, type ControlAction, type EventData, type RunControlRequested } from '@upshift/events';
import { brokersOf } from '../../runtime/test/support/stack.ts';
import { until } from '../faults/shard-run.ts';
import type { Harness } from './run.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Publishes a control of the run as `requestedBy` and returns verify's answer (`run.control.applied`). */
export async function publishControl(
  harness: Harness, requestedBy: string, runId: string, action: ControlAction, extra: Partial<RunControlRequested> = {},
): Promise<EventData<'run.control.applied'>> {
  const data: RunControlRequested = { runId, controlId: randomUUID(), action, requestedBy, ...extra };
  await publishRunControl({ clientId: 'controls-test', brokers: brokersOf(harness.env) }, data, { producer: 'cli', topicPrefix: harness.prefix });
  return until(async () => harness.eventsOf(runId).map((e) => (isEventOf(e, 'run.control.applied') ? e.data : undefined))
    .find((a) => a?.controlId === data.controlId) as EventData<'run.control.applied'> | undefined, 20_000, `no answer to ${action}`);
}

/** Runs `upshift <args>` with the harness's environment; `kafka` adds its brokers and topic prefix. */
export async function runCli(harness: Harness, args: string[], options: { kafka?: boolean } = {}): Promise<{ stdout: string; stderr: string }> {
  const where = options.kafka ? ['--brokers', brokersOf(harness.env).join(','), '--topic-prefix', harness.prefix] : [];
  return promisify(execFile)(process.execPath, ['cli/src/upshift.ts', ...args, ...where], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, ...harness.env } });
}
