// The smaller sections of a run page: checks with their evidence, the rollback report with its
// conflicts by key, failures, and the event timeline.
import { html } from './html.js';
import { formatClock, formatCount } from './format.js';

/** verify's checks and what each found. */
export function Checks({ checks }) {
  if (checks.length === 0) return null;
  return html`<section><h2>checks</h2><ul class="checks">${checks.map((c) => html`<li key=${c.name} class=${c.passed ? 'passed' : 'failed'}>
    <span class=${`badge ${c.passed ? 'outcome-succeeded' : 'outcome-failed'}`}>${c.passed ? 'passed' : 'failed'}</span> <strong>${c.name}</strong>
    <div class="evidence">${c.message}</div></li>`)}</ul></section>`;
}

const findingText = (f) => (f.kind === 'changed' ? (f.decision === 'kept' ? "kept the application's value" : "restored over the application's value")
  : f.kind === 'deleted' ? 'deleted since the migration: stays deleted' : `created by the new version: ${f.decision === 'reverted' ? 'reverted to the old form' : 'left as it is'}`);

/** What the rollback put back, and what it could not simply put back (conflicts by key). */
export function RestoreReport({ migrations }) {
  const restored = migrations.filter((m) => m.restore);
  if (restored.length === 0) return null;
  return html`<section><h2>rollback and restore</h2>${restored.map((m) => html`<article key=${m.ref} class="restore" data-restore=${m.ref}>
    <h3>${m.ref}</h3>
    <p>${formatCount(m.restore.rowsRestored)} rows restored · ${formatCount(m.restore.conflicts)} conflicts · ${formatCount(m.restore.created)} created by the new version${m.restore.createdReverted ? ` (${formatCount(m.restore.createdReverted)} reverted)` : ''}</p>
    ${m.restore.findings.length > 0 ? html`<table class="findings"><thead><tr><th>key</th><th>column</th><th>what happened</th><th>migration wrote</th><th>found</th></tr></thead>
      <tbody>${m.restore.findings.map((f, i) => html`<tr key=${i}><td><code>${f.key}</code></td><td>${f.column}</td><td>${findingText(f)}</td><td>${f.written ?? 'null'}</td><td>${f.found ?? 'null'}</td></tr>`)}</tbody></table>` : null}
  </article>`)}</section>`;
}

/** Why things failed, as they happened. */
export function Failures({ failures }) {
  if (failures.length === 0) return null;
  return html`<section><h2>failures</h2><ul class="failures">${failures.map((f, i) => html`<li key=${i}>${f}</li>`)}</ul></section>`;
}

/** Every event the functions produced for the run, oldest first. */
export function Timeline({ timeline }) {
  if (timeline.length === 0) return null;
  return html`<section><h2>events</h2><details class="timeline" open>
    <summary>${timeline.length} events</summary>
    <ol>${timeline.map((e, i) => html`<li key=${i} data-event=${e.name}><time>${formatClock(e.at)}</time> <span class="event-name">${e.name}</span> <span class="muted">${e.source}</span> ${e.summary}</li>`)}</ol>
  </details></section>`;
}
