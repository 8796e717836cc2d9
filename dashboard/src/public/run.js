// A run's page: header with the trace link, controls, waves × clusters, migrations and shards, checks,
// rollback report, failures and the event timeline — live.
import { html } from './html.js';
import { useLiveDocument } from './api.js';
import { formatDuration, formatTime } from './format.js';
import { Controls } from './controls.js';
import { Waves } from './waves.js';
import { Migrations } from './migrations.js';
import { Checks, Failures, RestoreReport, Timeline } from './sections.js';

const verdicts = {
  'upgrade.completed': 'completed', 'upgrade.rolled-back': 'rolled back', 'upgrade.failed': 'failed',
  'upgrade.rejected': 'rejected', 'upgrade.planned': 'planned (dry run)',
};

function Header({ run, status }) {
  const outcome = run.outcome;
  return html`<header class="top">
    <h1><a href="/">runs</a> / <span class="run-id">${run.runId}</span></h1>
    <span class=${`live live-${status}`}>${status}</span>
  </header>
  <section class="summary">
    <dl>
      <dt>policy</dt><dd>${run.policyName ?? '–'}</dd>
      <dt>state</dt><dd><span class=${`badge state-${run.status ?? 'unknown'}`} data-testid="run-status">${run.status ?? 'unknown'}</span></dd>
      <dt>stage</dt><dd data-testid="run-stage">${run.stage}${run.percent !== null && !outcome ? ` · ${Math.round(run.percent)}%` : ''}</dd>
      <dt>started</dt><dd>${formatTime(run.startedAt)}</dd>
      <dt>duration</dt><dd>${formatDuration(run.durationMs)}</dd>
      <dt>trace</dt><dd>${run.traceUrl ? html`<a href=${run.traceUrl} target="_blank" rel="noopener noreferrer" data-testid="trace-link">${run.traceId}</a>` : run.traceId ?? '–'}</dd>
    </dl>
    ${run.message && !outcome ? html`<p class="message">${run.message}</p>` : null}
    ${outcome ? html`<p class=${`outcome outcome-${outcome.success ? 'succeeded' : 'failed'}`} data-testid="run-outcome">
      ${verdicts[outcome.name] ?? outcome.name}${outcome.durationMs !== undefined ? ` in ${formatDuration(outcome.durationMs)}` : ''}${outcome.detail ? ` — ${outcome.detail}` : ''}
      ${outcome.reason ? html`<br /><span class="reason">reason: ${outcome.reason}</span>` : null}
    </p>` : null}
  </section>`;
}

/** The run page. */
export function RunPage({ runId }) {
  const { doc: run, status } = useLiveDocument(`/api/runs/${encodeURIComponent(runId)}/stream`, 'run');
  if (status === 'missing' && run === undefined) {
    return html`<header class="top"><h1><a href="/">runs</a> / <span class="run-id">${runId}</span></h1></header>
      <p class="muted">the control store does not know this run (yet); looking again every 2 s…</p>`;
  }
  if (run === undefined) return html`<p class="muted">loading…</p>`;
  return html`<${Header} run=${run} status=${status} />
    <${Controls} run=${run} />
    <${Waves} waves=${run.waves} />
    <${Migrations} migrations=${run.migrations} />
    <${Checks} checks=${run.checks} />
    <${RestoreReport} migrations=${run.migrations} />
    <${Failures} failures=${run.failures} />
    <${Timeline} timeline=${run.timeline} />`;
}
