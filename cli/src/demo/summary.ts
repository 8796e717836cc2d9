/** The demo's closing screen (pure): what changed, data before/after, durations, and where the trace is. */
import { formatCount, formatDuration } from '../watch/render.ts';
import { rowsOf, type RunView } from '../watch/state.ts';
import type { DataChecksum } from './data.ts';

/** Everything the summary reports. */
export interface DemoReport {
  readonly view: RunView;
  readonly fail: boolean;
  readonly images: readonly { cluster: string; name: string; before: string; now: string | undefined; available: boolean }[];
  /** Each data set with its checksums and the migration that changes it. */
  readonly data: readonly { label: string; migration: string; before: DataChecksum; after: DataChecksum }[];
  readonly timings: Readonly<Record<string, number>>;
  readonly traceId: string | undefined;
  readonly jaegerUrl: string | undefined;
}

function versions(c: DataChecksum): string {
  return Object.entries(c.versions).map(([v, n]) => `v${v}: ${formatCount(n)}`).join(', ') || 'empty';
}

/** Rows/documents a migration's restored shards put back (they had been migrated before the rollback). */
export function restoredRows(view: RunView, migration: string): number {
  const shards = Object.values(view.migrations.find((m) => m.ref === migration)?.shards ?? {});
  return shards.reduce((sum, s) => sum + (s.state === 'restored' ? s.rows : 0), 0);
}

function dataLines(report: DemoReport): string[] {
  return report.data.flatMap(({ label, migration, before, after }) => {
    const equal = before.digest === after.digest && before.count === after.count;
    const restored = restoredRows(report.view, migration);
    const verdict = !equal ? 'changed by the run'
      : restored > 0 ? `EQUAL: migrated by ${migration}, then restored (${formatCount(restored)} put back): exactly as before the run`
        : 'EQUAL: the data is exactly as before the run';
    return [
      `  ${label}`,
      `    before  ${before.digest}  ${formatCount(before.count)} (${versions(before)})`,
      `    after   ${after.digest}  ${formatCount(after.count)} (${versions(after)})`,
      `    ${verdict}`,
    ];
  });
}

/**
 * Whether the run ended as the demo expects: completed; or (--fail) rolled back with images back and data
 * equal to before, after at least one migration had changed data (customers-profile runs after the
 * customers waves, before the failing orders wave) — so the rollback really restored data.
 */
export function demoSucceeded(report: DemoReport): boolean {
  const outcome = report.view.outcome?.name;
  if (!report.fail) return outcome === 'upgrade.completed';
  const dataEqual = report.data.every(({ before, after }) => before.digest === after.digest);
  const imagesBack = report.images.every((i) => i.now === i.before && i.available);
  const dataRestored = report.data.some(({ migration }) => restoredRows(report.view, migration) > 0);
  return outcome === 'upgrade.rolled-back' && dataEqual && imagesBack && dataRestored;
}

function failStory(report: DemoReport): string {
  const restored = report.data.filter(({ migration }) => restoredRows(report.view, migration) > 0);
  if (restored.length === 0) return 'the orders wave failed before any migration had run: nothing to restore';
  const what = restored.map(({ label, migration }) => `${label} (${migration}, ${formatCount(restoredRows(report.view, migration))} restored)`).join(', ');
  return `the orders wave failed after ${what} had been migrated; rolled back automatically: data restored (checksums before = after), images reverted`;
}

/** The summary text. */
export function renderSummary(report: DemoReport): string {
  const { view } = report;
  const lines = ['', '==== summary ====', `run ${view.runId}: ${view.outcome?.name ?? 'did not end'}${view.outcome?.reason ? ` (${view.outcome.reason})` : ''}`];
  lines.push('', 'workloads (before -> now)');
  for (const i of report.images) lines.push(`  ${`${i.name}@${i.cluster}`.padEnd(24)} ${i.before} -> ${i.now ?? '?'}${i.now === i.before ? ' (as before the run)' : ''}${i.available ? '' : '  NOT AVAILABLE'}`);
  if (view.migrations.length > 0) {
    lines.push('', 'migrations');
    for (const m of view.migrations) {
      const shards = Object.values(m.shards);
      const done = shards.filter((s) => s.state === 'completed').length;
      const restored = shards.filter((s) => s.state === 'restored').length;
      const unit = m.store === 'mongodb' ? 'documents' : 'rows';
      const after = m.afterWave === undefined ? '' : ` (after wave ${m.afterWave + 1})`;
      lines.push(restored > 0
        ? `  ${m.ref.padEnd(22)} ${restored}/${m.shardsTotal} shards migrated, then restored: ${formatCount(restoredRows(view, m.ref))} ${unit} put back${after}`
        : `  ${m.ref.padEnd(22)} ${done}/${m.shardsTotal} shards, ${formatCount(rowsOf(m))} ${unit} migrated${after}${shards.length === 0 ? ', never started' : ''}`);
    }
  }
  lines.push('', 'data checksums (computed independently: SQL md5 / JS sha256)', ...dataLines(report));
  lines.push('', 'durations', ...Object.entries(report.timings).map(([k, ms]) => `  ${k.padEnd(40)} ${formatDuration(ms)}`));
  lines.push('', `trace id   ${report.traceId ?? '(none)'}`);
  if (report.traceId && report.jaegerUrl) lines.push(`jaeger     ${report.jaegerUrl}/api/traces/${report.traceId}`);
  lines.push(`status     node cli/bin/upshift.js status ${view.runId}`);
  const story = report.fail ? failStory(report) : 'upgrade completed';
  lines.push('', demoSucceeded(report) ? `demo: OK (${story})` : `demo: NOT OK (${story}; see above)`);
  return `${lines.join('\n')}\n`;
}
