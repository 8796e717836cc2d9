/** The demo's closing screen (pure): what changed, data before/after, durations, and where the trace is. */
import { terminalSafe } from '../escape.ts';
import { formatCount, formatDuration } from '../watch/render.ts';
import { waveLabel } from '../waves.ts';
import { rowsOf, type RunView } from '../watch/state.ts';
import type { DataChecksum } from './data.ts';

/** Everything the summary reports. */
export interface DemoReport {
  readonly view: RunView;
  readonly fail: boolean;
  readonly images: readonly { cluster: string; name: string; before: string; now: string | undefined; available: boolean }[];
  /**
   * Each data set with its checksums and the migration that changes it; where the application wrote
   * during the run, also the checksums of the rows/documents it did not write (`untouched`).
   */
  readonly data: readonly { label: string; migration: string; before: DataChecksum; after: DataChecksum; untouched?: { before: DataChecksum; after: DataChecksum } }[];
  /** The demo application's writes during the run and what became of them. */
  readonly writes?: { readonly written: number; readonly kept: number; readonly lost: number; readonly conflicts: number };
  readonly timings: Readonly<Record<string, number>>;
  readonly traceId: string | undefined;
  readonly jaegerUrl: string | undefined;
}

/**
 * A measured duration as the summary prints it: tenths of a second under a minute (a step that took
 * 0.4 s reads "0.4s", not "0s"), then minutes and seconds.
 */
export function measuredDuration(ms: number): string {
  return ms < 59_950 ? `${(Math.max(0, ms) / 1000).toFixed(1)}s` : formatDuration(ms);
}

function versions(c: DataChecksum): string {
  return Object.entries(c.versions).map(([v, n]) => `v${v}: ${formatCount(n)}`).join(', ') || 'empty';
}

/** Rows/documents a migration's restored shards put back (they had been migrated before the rollback). */
export function restoredRows(view: RunView, migration: string): number {
  const shards = Object.values(view.migrations.find((m) => m.ref === migration)?.shards ?? {});
  return shards.reduce((sum, s) => sum + (s.state === 'restored' ? s.rows : 0), 0);
}

const sameData = (c: { before: DataChecksum; after: DataChecksum }) => c.before.digest === c.after.digest && c.before.count === c.after.count;

/** The checksums that must be equal after a rollback: of the data nobody wrote when the application wrote, else of all of it. */
function comparedChecksums(entry: DemoReport['data'][number]): { before: DataChecksum; after: DataChecksum } {
  return entry.untouched ?? entry;
}

function dataLines(report: DemoReport): string[] {
  return report.data.flatMap((entry) => {
    const { label, migration, before, after, untouched } = entry;
    const equal = sameData(comparedChecksums(entry));
    const restored = restoredRows(report.view, migration);
    const scope = untouched ? 'the documents the application did not write are' : 'the data is';
    const verdict = !equal ? 'changed by the run'
      : restored > 0 ? `EQUAL: migrated by ${migration}, then restored (${formatCount(restored)} put back): ${scope} exactly as before the run`
        : `EQUAL: ${scope} exactly as before the run`;
    return [
      `  ${label}`,
      `    before  ${before.digest}  ${formatCount(before.count)} (${versions(before)})`,
      `    after   ${after.digest}  ${formatCount(after.count)} (${versions(after)})`,
      ...(untouched ? [
        `    not written by the application during the run:`,
        `    before  ${untouched.before.digest}  ${formatCount(untouched.before.count)} (${versions(untouched.before)})`,
        `    after   ${untouched.after.digest}  ${formatCount(untouched.after.count)} (${versions(untouched.after)})`,
      ] : []),
      `    ${verdict}`,
    ];
  });
}

function writeLines(report: DemoReport): string[] {
  const w = report.writes;
  if (!w) return [];
  return ['', `application writes during the run: ${formatCount(w.written)}, kept ${formatCount(w.kept)}, conflicts ${formatCount(w.conflicts)}${w.conflicts > 0 ? ' (listed with `upshift status`)' : ''}, lost ${formatCount(w.lost)}`];
}

/**
 * Whether the run ended as the demo expects: completed; or (--fail) rolled back with images back and data
 * equal to before, after at least one migration had changed data (customers-profile runs after the
 * customers waves, before the failing orders wave) — so the rollback really restored data.
 */
export function demoSucceeded(report: DemoReport): boolean {
  const outcome = report.view.outcome?.name;
  const nothingLost = (report.writes?.lost ?? 0) === 0;
  if (!report.fail) return outcome === 'upgrade.completed' && nothingLost;
  const dataEqual = report.data.every((entry) => sameData(comparedChecksums(entry))) && nothingLost;
  const imagesBack = report.images.every((i) => i.now === i.before && i.available);
  const dataRestored = report.data.some(({ migration }) => restoredRows(report.view, migration) > 0);
  return outcome === 'upgrade.rolled-back' && dataEqual && imagesBack && dataRestored;
}

function failStory(report: DemoReport): string {
  const restored = report.data.filter(({ migration }) => restoredRows(report.view, migration) > 0);
  if (restored.length === 0) return 'the orders wave failed before any migration had run: nothing to restore';
  const what = restored.map(({ label, migration }) => `${label} (${migration}, ${formatCount(restoredRows(report.view, migration))} restored)`).join(', ');
  return `the orders wave failed after ${what} had been migrated; rolled back automatically: data restored (checksums before = after), images reverted${report.writes ? `, ${formatCount(report.writes.written)} application writes kept, lost ${formatCount(report.writes.lost)}` : ''}`;
}

/** The summary text (values from events and the clusters escaped for the terminal). */
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
      const after = m.afterWave === undefined ? '' : ` (after ${waveLabel(m.afterWave, view.waves.length)})`;
      lines.push(restored > 0
        ? `  ${m.ref.padEnd(22)} ${restored}/${m.shardsTotal} shards migrated, then restored: ${formatCount(restoredRows(view, m.ref))} ${unit} put back${after}`
        : `  ${m.ref.padEnd(22)} ${done}/${m.shardsTotal} shards, ${formatCount(rowsOf(m))} ${unit} migrated${after}${shards.length === 0 ? ', never started' : ''}`);
    }
  }
  lines.push('', 'data checksums (computed independently: SQL md5 / JS sha256)', ...dataLines(report), ...writeLines(report));
  lines.push('', 'durations (measured)', ...Object.entries(report.timings).map(([k, ms]) => `  ${k.padEnd(40)} ${measuredDuration(ms).padStart(7)}`));
  lines.push('', `trace id   ${report.traceId ?? '(none)'}`);
  if (report.traceId && report.jaegerUrl) lines.push(`jaeger     ${report.jaegerUrl}/api/traces/${report.traceId}`);
  lines.push(`status     node cli/bin/upshift.js status ${view.runId}`);
  lines.push(`backups    node cli/bin/upshift.js backups list`);
  const story = report.fail ? failStory(report) : 'upgrade completed';
  lines.push('', demoSucceeded(report) ? `demo: OK (${story})` : `demo: NOT OK (${story}; see above)`);
  return `${lines.map(terminalSafe).join('\n')}\n`;
}
