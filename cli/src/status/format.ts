/** Text tables of `upshift status` (pure: rows in, text out; cells from the store are escaped for the terminal). */
import { terminalSafe } from '../escape.ts';
import { formatDuration } from '../watch/render.ts';
import { waveNumber } from '../waves.ts';

/** One line of the recent-runs table. */
export interface RunSummary {
  readonly id: string;
  readonly policy: string;
  readonly status: string;
  readonly startedAt: Date;
  readonly finishedAt: Date | undefined;
  /** For `-o wide`: how many waves the plan has and the migrations it runs. */
  readonly waves?: number;
  readonly migrations?: readonly string[];
}

/** One step row of a run. */
export interface StepSummary {
  readonly kind: string;
  readonly key: string;
  readonly status: string;
  readonly attempt: number;
  readonly startedAt: Date | null;
  readonly finishedAt: Date | null;
}

/** `2026-11-23 15:04:49` in UTC. */
export function formatTime(date: Date): string {
  return date.toISOString().replace('T', ' ').slice(0, 19);
}

/** Duration of something that started and maybe finished (`running 12s` if not yet). */
export function durationText(started: Date | null, finished: Date | null | undefined, now: number): string {
  if (!started) return '-';
  return finished ? formatDuration(finished.getTime() - started.getTime()) : `running ${formatDuration(now - started.getTime())}`;
}

/** Paints a cell of a body row after it was escaped and measured (colour codes take no column). */
export type CellPainter = (column: string, cell: string) => string;

/** Left-aligned columns separated by two spaces; each cell escaped, so a value cannot break the table. */
export function table(header: readonly string[], values: readonly (readonly string[])[], paint?: CellPainter): string {
  const rows = values.map((row) => row.map(terminalSafe));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[], painted: boolean) => cells.map((c, i) => {
    const shown = painted && paint ? paint(header[i] ?? '', c) : c;
    return i === cells.length - 1 ? shown : shown + ' '.repeat(Math.max(0, (widths[i] ?? 0) - c.length));
  }).join('  ').trimEnd();
  return `${[line(header, false), ...rows.map((r) => line(r, true))].join('\n')}\n`;
}

/** The recent-runs table; `wide` adds when each run finished, its waves and its migrations. */
export function runsTable(runs: readonly RunSummary[], now: number, options: { wide?: boolean; paint?: CellPainter } = {}): string {
  if (runs.length === 0) return 'no runs in the control store\n';
  const header = ['RUN', 'POLICY', 'STATUS', 'STARTED (UTC)', 'DURATION', ...(options.wide ? ['FINISHED (UTC)', 'WAVES', 'MIGRATIONS'] : [])];
  return table(header, runs.map((r) => [
    r.id, r.policy, r.status, formatTime(r.startedAt), durationText(r.startedAt, r.finishedAt, now),
    ...(options.wide ? [r.finishedAt ? formatTime(r.finishedAt) : '-', r.waves === undefined ? '-' : String(r.waves), r.migrations?.join(',') || '-'] : []),
  ]), options.paint);
}

/** Kinds of steps whose key is a 0-based wave index (the contract's); shown counted from 1. */
const waveKinds = new Set(['wave', 'revert']);

/** A step's key as a person reads it: a wave step's `0` is `1 of 3`. */
export function stepKeyText(step: Pick<StepSummary, 'kind' | 'key'>, waves?: number): string {
  return waveKinds.has(step.kind) && /^\d+$/.test(step.key) ? waveNumber(Number(step.key), waves) : step.key;
}

/** The steps table of one run (`waves`: how many the plan has, for the wave steps' keys). */
export function stepsTable(steps: readonly StepSummary[], now: number, waves?: number): string {
  if (steps.length === 0) return '  (no steps recorded)\n';
  return table(['KIND', 'KEY', 'STATUS', 'ATTEMPTS', 'DURATION'],
    steps.map((s) => [s.kind, stepKeyText(s, waves), s.status, String(s.attempt), durationText(s.startedAt, s.finishedAt, now)]))
    .split('\n').map((l) => (l ? `  ${l}` : l)).join('\n');
}

/** What verify kept about one dead-lettered event of a run (the checkpoint of its `dead-letter` step). */
interface DeadLetterCheckpoint {
  readonly type?: string;
  readonly destination?: string;
  readonly status?: number;
  readonly reason?: string;
  readonly decision?: string;
  readonly redrives?: number;
}

/** The dead letters of one run: which event, where it was going, why it failed, and what upshift did. */
export function deadLettersTable(steps: readonly (StepSummary & { readonly checkpoint?: unknown })[]): string {
  const letters = steps.filter((s) => s.kind === 'dead-letter');
  if (letters.length === 0) return '';
  const decided = (d: DeadLetterCheckpoint): string =>
    d.decision === 'redrive' ? `redriven (${d.redrives ?? 0})` : d.decision === 'fail' ? 'failed the run' : (d.decision ?? '-');
  const rows = letters.map((s) => {
    const d = (s.checkpoint ?? {}) as DeadLetterCheckpoint;
    return [s.key, (d.type ?? '-').replace(/^dev\.upshift\.|\.v\d+$/g, ''), d.status === undefined ? '-' : String(d.status), decided(d), d.reason ?? '-'];
  });
  return `\ndead letters\n${table(['EVENT', 'TYPE', 'HTTP', 'DECISION', 'CAUSE'], rows).split('\n').map((l) => (l ? `  ${l}` : l)).join('\n')}`;
}
