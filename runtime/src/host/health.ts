/**
 * Readiness and liveness that check real dependencies: readiness = control store answers, Kafka
 * answers, plus the function's own checks; liveness = initialised and the outbox relay not stuck.
 */
import { pingStore } from '../store/pool.ts';
import { wrapError } from '../wrap-error.ts';
import type { Resources } from './resources.ts';
import { redactCredentials } from '../redact.ts';

/** The result of a health probe; `ok: false` is served as 503. */
export interface HealthReport {
  readonly ok: boolean;
  readonly checks: Readonly<Record<string, string>>;
}

/** How long the relay may fail before the instance is reported not alive. */
const relayStuckMs = 60_000;

async function probe(name: string, checks: Record<string, string>, fn: () => Promise<void>): Promise<boolean> {
  try {
    await fn();
    checks[name] = 'ok';
    return true;
  } catch (err) {
    checks[name] = redactCredentials(`${wrapError(err).code}: ${(err as Error).message}`).slice(0, 300);
    return false;
  }
}

/** Runs the probe of `kind` against the open resources. */
export async function checkHealth(
  resources: Resources | undefined,
  kind: 'readiness' | 'liveness',
  extra?: () => Promise<void>,
): Promise<HealthReport> {
  if (!resources) return { ok: false, checks: { init: 'not initialised' } };
  const checks: Record<string, string> = {};
  if (kind === 'liveness') {
    const stuck = Date.now() - resources.relay.lastHealthyAt > relayStuckMs;
    checks['relay'] = stuck ? 'outbox relay has failed for over 60 s' : 'ok';
    return { ok: !stuck, checks };
  }
  const results = await Promise.all([
    probe('postgres', checks, () => pingStore(resources.pool)),
    probe('kafka', checks, () => resources.publisher.check()),
    ...(extra ? [probe('function', checks, extra)] : []),
  ]);
  return { ok: results.every(Boolean), checks };
}

interface FastifyLikeReply {
  code(status: number): FastifyLikeReply;
  send(body: unknown): unknown;
}

function isFastifyReply(value: unknown): value is FastifyLikeReply {
  return typeof value === 'object' && value !== null && 'code' in value && 'send' in value;
}

/** Under faas-js-runtime probes are route handlers (request, reply): answer through the reply. */
export function replyIfFastify(reply: unknown, report: HealthReport): HealthReport {
  if (isFastifyReply(reply)) reply.code(report.ok ? 200 : 503).send(report);
  return report;
}
