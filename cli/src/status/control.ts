/**
 * The operator-control text of `upshift status <run>` and of a control command's `--wait` (pure: state
 * in, text out). Who asked and their reasons come from outside the CLI, so every line is escaped.
 */
import { describeThrottle, type RunControlView } from '@upshift/runtime';
import type { EventData } from '@upshift/events';
import { line } from '../escape.ts';
import { formatDuration } from '../watch/render.ts';
import { formatTime, table } from './format.ts';

/**
 * The control state in one line: `waiting at the gate before wave 2 (promote to continue)`, `paused since …
 * (12s so far, 3 held)`, `throttled to …`. `gateWave` is 0-based, as events count waves.
 */
export function controlStateText(state: {
  paused: boolean; pausedAt?: Date | string | undefined; pausedMs: number; throttle?: EventData<'run.control.applied'>['state']['throttle']; held?: number;
  gateWave?: number | undefined;
}): string {
  const parts: string[] = [];
  if (state.gateWave !== undefined) parts.push(`waiting at the gate before wave ${state.gateWave + 1} (promote to continue)`);
  if (state.paused) {
    const since = state.pausedAt === undefined ? '' : ` since ${formatTime(new Date(state.pausedAt))} UTC`;
    const held = state.held === undefined ? '' : `, ${state.held} held`;
    parts.push(`paused${since} (${formatDuration(state.pausedMs)} paused in all${held})`);
  } else {
    parts.push(state.pausedMs > 0 ? `not paused (was paused ${formatDuration(state.pausedMs)} in all)` : 'not paused');
  }
  parts.push(state.throttle ? `throttled to ${describeThrottle(state.throttle)}` : 'not throttled');
  return parts.join('; ');
}

/** What a control command prints for verify's answer: the outcome and its message, then the state. */
export function controlAnswerText(answer: EventData<'run.control.applied'>): string {
  return [
    line(`${answer.action} ${answer.outcome} (asked by ${answer.requestedBy}): ${answer.message}`),
    line(`run ${answer.runId}: ${controlStateText({ ...answer.state, gateWave: answer.state.gate?.wave })}`),
  ].join('');
}

/** The `control` section of `upshift status <run>`: the state, who changed it last, and the last controls. */
export function controlSection(view: RunControlView | undefined): string {
  if (!view) return '';
  const who = view.updatedBy ? `; last changed by ${view.updatedBy}${view.updatedAt ? ` at ${formatTime(view.updatedAt)} UTC` : ''}` : '';
  const head = `\ncontrol\n${line(`  ${controlStateText(view)}${who}`)}`;
  if (view.history.length === 0) return head;
  const rows = view.history.map((h) => [formatTime(h.decidedAt), h.action, h.outcome, h.requestedBy, h.message]);
  return `${head}${table(['DECIDED (UTC)', 'ACTION', 'OUTCOME', 'BY', 'MESSAGE'], rows).split('\n').map((l) => (l ? `  ${l}` : l)).join('\n')}`;
}
