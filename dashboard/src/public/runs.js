// The runs list: state, policy, started, duration, outcome — live.
import { html } from './html.js';
import { useLiveDocument } from './api.js';
import { formatDuration, formatTime } from './format.js';

function RunRow({ run }) {
  return html`<tr data-run=${run.id}>
    <td><a href=${`/runs/${encodeURIComponent(run.id)}`}>${run.id}</a></td>
    <td>${run.policyName ?? '–'}</td>
    <td><span class=${`badge state-${run.state}`}>${run.state}</span></td>
    <td>${formatTime(run.startedAt)}</td>
    <td class="num">${formatDuration(run.durationMs)}</td>
    <td>${run.outcome ? html`<span class=${`badge outcome-${run.outcome}`}>${run.outcome}</span>` : html`<span class="muted">running</span>`}</td>
  </tr>`;
}

/** The runs page. */
export function RunsPage() {
  const { doc, status } = useLiveDocument('/api/runs/stream', 'runs');
  return html`<header class="top"><h1>upshift runs</h1><span class=${`live live-${status}`}>${status}</span></header>
    ${doc === undefined ? html`<p class="muted">loading…</p>` : doc.runs.length === 0 ? html`<p class="muted">no runs yet</p>` : html`
    <table class="runs">
      <thead><tr><th>run</th><th>policy</th><th>state</th><th>started</th><th>duration</th><th>outcome</th></tr></thead>
      <tbody>${doc.runs.map((run) => html`<${RunRow} key=${run.id} run=${run} />`)}</tbody>
    </table>`}`;
}
