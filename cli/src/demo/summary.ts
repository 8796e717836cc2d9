/** The demo's closing screen (pure): what changed, data before/after, durations, and where the trace is. */
import { formatCount, formatDuration } from '../watch/render.ts';
import { rowsOf, type RunView } from '../watch/state.ts';
import type { DataChecksum } from './data.ts';

/** Everything the summary reports. */
export interface DemoReport {
  readonly view: RunView;
  readonly fail: boolean;
  readonly images: readonly { cluster: string; name: string; before: string; now: string | undefined; available: boolean }[];
  readonly data: readonly { label: string; before: DataChecksum; after: DataChecksum }[];
  readonly timings: Readonly<Record<string, number>>;
  readonly traceId: string | undefined;
  readonly jaegerUrl: string | undefined;
}

function versions(c: DataChecksum): string {
  return Object.entries(c.versions).map(([v, n]) => `v${v}: ${formatCount(n)}`).join(', ') || 'empty';
}

function dataLines(report: DemoReport): string[] {
  return report.data.flatMap(({ label, before, after }) => {
    const equal = before.digest === after.digest && before.count === after.count;
    return [
      `  ${label}`,
      `    before  ${before.digest}  ${formatCount(before.count)} (${versions(before)})`,
      `    after   ${after.digest}  ${formatCount(after.count)} (${versions(after)})`,
      `    ${equal ? 'EQUAL: the data is exactly as before the run' : 'changed by the run'}`,
    ];
  });
}

/** Whether the run ended as the demo expects: completed, or rolled back with data equal to before (--fail). */
export function demoSucceeded(report: DemoReport): boolean {
  const outcome = report.view.outcome?.name;
  if (!report.fail) return outcome === 'upgrade.completed';
  const dataEqual = report.data.every(({ before, after }) => before.digest === after.digest);
  const imagesBack = report.images.every((i) => i.now === i.before && i.available);
  return outcome === 'upgrade.rolled-back' && dataEqual && imagesBack;
}

/** The summary text. */
export function renderSummary(report: DemoReport): string {
  const { view } = report;
  const lines = ['', '==== summary ====', `run ${view.runId}: ${view.outcome?.name ?? 'did not end'}${view.outcome?.reason ? ` (${view.outcome.reason})` : ''}`];
  lines.push('', 'workloads (before -> now)');
  for (const i of report.images) lines.push(`  ${`${i.name}@${i.cluster}`.padEnd(24)} ${i.before} -> ${i.now ?? '?'}${i.now === i.before ? ' (unchanged)' : ''}${i.available ? '' : '  NOT AVAILABLE'}`);
  if (view.migrations.length > 0) {
    lines.push('', 'migrations');
    for (const m of view.migrations) {
      const done = Object.values(m.shards).filter((s) => s.state === 'completed').length;
      lines.push(`  ${m.ref.padEnd(22)} ${done}/${m.shardsTotal} shards, ${formatCount(rowsOf(m))} ${m.store === 'mongodb' ? 'documents' : 'rows'} migrated`);
    }
  }
  lines.push('', 'data checksums (computed independently: SQL md5 / JS sha256)', ...dataLines(report));
  lines.push('', 'durations', ...Object.entries(report.timings).map(([k, ms]) => `  ${k.padEnd(40)} ${formatDuration(ms)}`));
  lines.push('', `trace id   ${report.traceId ?? '(none)'}`);
  if (report.traceId && report.jaegerUrl) lines.push(`jaeger     ${report.jaegerUrl}/api/traces/${report.traceId}`);
  lines.push(`status     node cli/bin/upshift.js status ${view.runId}`);
  lines.push('', demoSucceeded(report) ? `demo: OK (${report.fail ? 'failure in the orders wave rolled back automatically' : 'upgrade completed'})` : 'demo: NOT OK (see above)');
  return `${lines.join('\n')}\n`;
}
