/**
 * Rendering a RunView as plain text: the whole frame (redrawn on a TTY) and progress bars with rows/s
 * and ETA. Pure: `now` is passed in. The frame's own text is ASCII; the values in it (paths, reasons,
 * names, keys from events and the store) have every character a terminal would act on escaped.
 */
import type { RestoreFinding } from '@upshift/events';
import { terminalSafe } from '../escape.ts';
import { waveLabel } from '../waves.ts';
import { rowsOf, type MigrationView, type RunView, type TargetView, type WaveView } from './state.ts';

/** Formats a duration as `1h02m`, `3m05s` or `12s`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** Thousands with commas (fixed, so tests do not depend on the locale). */
export function formatCount(n: number): string {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A bar of `width` cells, `#` for the done fraction. */
export function bar(fraction: number, width = 20): string {
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const filled = Math.round(f * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

/** Rows per second over the recent samples (the last ~10 s of them), or undefined with too few. */
export function rowsPerSecond(m: MigrationView): number | undefined {
  const last = m.samples.at(-1);
  if (!last) return undefined;
  const window = m.samples.filter(([t]) => t >= last[0] - 10_000);
  const first = window[0] ?? last;
  const seconds = (last[0] - first[0]) / 1000;
  return seconds >= 1 ? (last[1] - first[1]) / seconds : undefined;
}

/** The done fraction of a migration: by rows when the total is known, else by finished shards. */
export function migrationFraction(m: MigrationView): number {
  const finished = Object.values(m.shards).filter((s) => s.state !== 'running').length;
  if (m.expectedRows && m.expectedRows > 0) return finished === m.shardsTotal && m.shardsTotal > 0 ? 1 : Math.min(0.99, rowsOf(m) / m.expectedRows);
  return m.shardsTotal > 0 ? finished / m.shardsTotal : 0;
}

/** Seconds left at the current rate, when the total is known and rows move. */
export function etaMs(m: MigrationView): number | undefined {
  const rate = rowsPerSecond(m);
  if (!m.expectedRows || !rate || rate <= 0) return undefined;
  return (Math.max(0, m.expectedRows - rowsOf(m)) / rate) * 1000;
}

const marks: Record<TargetView['state'], string> = { pending: '  ', done: 'ok', failed: '!!', reverted: '<-' };

function waveLines(w: WaveView, waves: number): string[] {
  const state = w.targets.some((t) => t.state === 'failed') ? 'FAILED' : w.targets.every((t) => t.state === 'reverted') ? 'reverted'
    : w.targets.every((t) => t.state === 'done') ? 'done' : 'pending';
  return [
    `  ${waveLabel(w.index, waves)}  ${state}`,
    ...w.targets.map((t) => `    [${marks[t.state]}] ${`${t.service}@${t.cluster}`.padEnd(24)} ${t.previousImage} -> ${tagOf(t.image)}${t.state === 'reverted' ? ` (reverted to ${tagOf(t.previousImage)})` : ''}${t.reason ? `  (${t.reason})` : ''}`),
  ];
}

function tagOf(image: string): string {
  const at = image.lastIndexOf(':');
  return at > image.lastIndexOf('/') ? image.slice(at + 1) : image;
}

/** One line per migration: bar, shards, rows, rows/s and ETA (and, before it starts, after which of the `waves` waves). */
export function migrationLine(m: MigrationView, done: boolean, waves?: number): string {
  const shards = Object.values(m.shards);
  const finished = shards.filter((s) => s.state === 'completed').length;
  const failedShards = shards.filter((s) => s.state === 'failed').length;
  const restored = shards.filter((s) => s.state === 'restored').length;
  const unit = m.store === 'mongodb' ? 'docs' : 'rows';
  const rate = rowsPerSecond(m);
  const eta = done ? undefined : etaMs(m);
  const parts = [
    `  ${m.ref.padEnd(22)} ${m.store.padEnd(8)} ${bar(migrationFraction(m))}`,
    `${finished}/${m.shardsTotal} shards`,
    `${formatCount(rowsOf(m))}${m.expectedRows ? `/${formatCount(m.expectedRows)}` : ''} ${unit}`,
    ...(rate !== undefined && rate > 0 && !done ? [`${formatCount(rate)} ${unit}/s`] : []),
    ...(eta !== undefined ? [`ETA ${formatDuration(eta)}`] : []),
    ...(failedShards > 0 ? [`${failedShards} failed`] : []),
    ...(restored > 0 ? [`${restored} restored`] : []),
    ...restoreParts(restoreTotals(m)),
    ...(shards.length === 0 && m.afterWave !== undefined && !done ? [`starts after ${waveLabel(m.afterWave, waves)}`] : []),
  ];
  return parts.join('  ');
}

/** A migration's restore findings summed over its shards. */
export function restoreTotals(m: MigrationView): { conflicts: number; created: number; createdReverted: number; findings: RestoreFinding[] } {
  const totals = { conflicts: 0, created: 0, createdReverted: 0, findings: [] as RestoreFinding[] };
  for (const shard of Object.values(m.shards)) {
    if (!shard.restore) continue;
    totals.conflicts += shard.restore.conflicts;
    totals.created += shard.restore.created;
    totals.createdReverted += shard.restore.createdReverted;
    totals.findings.push(...shard.restore.findings);
  }
  return totals;
}

function restoreParts(totals: ReturnType<typeof restoreTotals>): string[] {
  return [
    ...(totals.conflicts > 0 ? [`${formatCount(totals.conflicts)} conflicts`] : []),
    ...(totals.created > 0 ? [`${formatCount(totals.created)} created by the new version${totals.createdReverted > 0 ? ` (${formatCount(totals.createdReverted)} reverted)` : ''}`] : []),
  ];
}

/** A user value for the terminal: at most `max` characters, every character a terminal would act on escaped. */
export function printable(text: string, max = 80): string {
  return terminalSafe(text.length > max ? `${text.slice(0, max)}...` : text);
}

/** One line per restore finding: key, column, what the migration wrote and what the restore found. */
export function findingLine(ref: string, finding: RestoreFinding): string {
  const what = finding.kind === 'changed' ? `${finding.decision === 'kept' ? 'kept the application\'s value' : 'restored over the application\'s value'}: wrote ${finding.written ?? 'null'}, found ${finding.found ?? 'null'}`
    : finding.kind === 'deleted' ? 'deleted since the migration: stays deleted'
      : `created by the new version: ${finding.decision === 'reverted' ? 'reverted to the old form' : 'left as it is'}`;
  return `  ${ref} key ${printable(finding.key, 60)} ${printable(finding.column, 40)}: ${printable(what, 200)}`;
}

function findingLines(view: RunView): string[] {
  const lines = view.migrations.flatMap((m) => restoreTotals(m).findings.slice(0, 10).map((finding) => findingLine(m.ref, finding)));
  return lines.length > 0 ? ['', 'rollback findings', ...lines] : [];
}

/** Where the run's trace opens in Jaeger (the UI's `/trace/<id>` page). */
export function traceUrl(jaegerUrl: string | undefined, traceId: string | undefined): string | undefined {
  return jaegerUrl && traceId ? `${jaegerUrl.replace(/\/+$/, '')}/trace/${traceId}` : undefined;
}

function header(view: RunView, now: number, jaegerUrl?: string): string[] {
  const end = view.outcome ? (view.lastEventAt ?? now) : now;
  const elapsed = view.startedAt === undefined ? '' : `  elapsed ${formatDuration(end - view.startedAt)}`;
  const percent = view.percent === undefined || view.outcome ? '' : `  ${Math.round(view.percent)}%`;
  return [
    `run ${view.runId}${view.policyName ? `  policy ${view.policyName}` : ''}`,
    `stage: ${view.stage}${percent}${elapsed}${view.message && !view.outcome ? `  - ${view.message}` : ''}`,
    ...(view.traceId ? [`trace ${view.traceId}${jaegerUrl ? `  ${traceUrl(jaegerUrl, view.traceId) ?? ''}` : ''}`] : []),
  ];
}

function outcomeLines(view: RunView): string[] {
  const o = view.outcome;
  if (!o) return [];
  const verdict = o.name === 'upgrade.completed' ? 'COMPLETED' : o.name === 'upgrade.rolled-back' ? 'ROLLED BACK' : o.name === 'upgrade.failed' ? 'FAILED'
    : o.name === 'upgrade.rejected' ? 'REJECTED' : 'PLANNED (dry run)';
  return [
    '',
    `result: ${verdict}${o.durationMs !== undefined ? ` in ${formatDuration(o.durationMs)}` : ''}${o.detail ? ` - ${o.detail}` : ''}`,
    ...(o.reason ? [`reason: ${o.reason}`] : []),
  ];
}

/** The whole frame for `upshift watch` (with `jaegerUrl`, the trace line links the run's trace). */
export function renderFrame(view: RunView, now: number, jaegerUrl?: string): string {
  const lines = header(view, now, jaegerUrl);
  if (view.waves.length > 0) lines.push('', 'waves', ...view.waves.flatMap((w) => waveLines(w, view.waves.length)));
  const planKnown = view.waves.length > 0 || view.migrations.some((m) => m.shardsTotal > 0);
  if (planKnown && view.migrations.length > 0) lines.push('', 'migrations', ...view.migrations.map((m) => migrationLine(m, view.outcome !== undefined, view.waves.length)));
  if (view.checks.length > 0) lines.push('', 'checks', ...view.checks.map((c) => `  [${c.passed ? 'ok' : '!!'}] ${c.name.padEnd(22)} ${c.message}`));
  lines.push(...findingLines(view));
  if (view.failures.length > 0) lines.push('', 'failures', ...view.failures.map((f) => `  ! ${f}`));
  if (view.waves.length === 0 && !view.outcome) lines.push('', 'waiting for the plan...');
  lines.push(...outcomeLines(view));
  return `${lines.map(terminalSafe).join('\n')}\n`;
}

/**
 * The lines of `next` that are new or changed since `previous` (for a log or a pipe, where a redraw is
 * impossible): state changes print once; the progress lines only when their shard or row counts moved.
 */
export function changedLines(previous: string, next: string): string[] {
  const before = new Set(previous.split('\n').map(stableLine));
  return next.split('\n').filter((line) => line.trim() !== '' && !isSectionTitle(line) && !before.has(stableLine(line)));
}

/** A line without its clock-dependent parts (elapsed, rate, ETA), to decide whether it changed. */
function stableLine(line: string): string {
  const stable = line.replace(/ {2}elapsed \S+/, '').replace(/ {2}[\d,]+ (rows|docs)\/s/, '').replace(/ {2}ETA \S+/, '');
  return stable.startsWith('stage: ') ? stable.replace(/ {2}\d+%/, '').replace(/ {2}- .*$/, '') : stable;
}

/** Whether a frame line is a migration's progress line (printed at most every few seconds in a log). */
export function isProgressLine(line: string): boolean {
  return / \d+\/\d+ shards /.test(line);
}

function isSectionTitle(line: string): boolean {
  return ['waves', 'migrations', 'checks', 'rollback findings', 'failures'].includes(line);
}

/** The view as a plain JSON document (`--json`): what a machine needs, without the sampling internals. */
export function viewToJson(view: RunView): Record<string, unknown> {
  return {
    runId: view.runId,
    policyName: view.policyName ?? null,
    stage: view.stage,
    percent: view.percent ?? null,
    traceId: view.traceId ?? null,
    waves: view.waves.map((w) => ({ index: w.index, targets: w.targets })),
    migrations: view.migrations.map((m) => {
      const shards = Object.values(m.shards);
      return {
        ref: m.ref, store: m.store, shardsTotal: m.shardsTotal, afterWave: m.afterWave ?? null,
        shardsCompleted: shards.filter((s) => s.state === 'completed').length,
        shardsFailed: shards.filter((s) => s.state === 'failed').length,
        shardsRestored: shards.filter((s) => s.state === 'restored').length,
        rowsMigrated: rowsOf(m), rowsPerSecond: rowsPerSecond(m) ?? null,
        restore: shards.some((s) => s.state === 'restored') ? { rowsRestored: shards.reduce((sum, s) => sum + (s.state === 'restored' ? s.rows : 0), 0), ...restoreTotals(m) } : null,
      };
    }),
    checks: view.checks,
    failures: view.failures,
    outcome: view.outcome ?? null,
  };
}
