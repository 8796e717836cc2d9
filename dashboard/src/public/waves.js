// The waves × clusters grid: one row per wave, one column per cluster; each cell the wave's workloads
// in that cluster with their state, image before → after, and the rollout's message.
import { html } from './html.js';
import { tagOf } from './format.js';

function Target({ target }) {
  return html`<div class=${`target target-${target.state}`} data-target=${`${target.service}@${target.cluster}`}>
    <span class="service">${target.service}</span>
    <span class=${`badge state-${target.state}`}>${target.state}</span>
    <div class="images"><span title=${target.previousImage}>${tagOf(target.previousImage)}</span> → <span title=${target.image}>${tagOf(target.image)}</span>${target.state === 'reverted' ? ` (reverted to ${tagOf(target.previousImage)})` : ''}</div>
    ${target.reason ? html`<div class="reason">${target.reason}</div>` : null}
  </div>`;
}

/** The grid of the run's waves. */
export function Waves({ waves }) {
  if (waves.length === 0) return html`<section><h2>waves</h2><p class="muted">waiting for the plan…</p></section>`;
  const clusters = [...new Set(waves.flatMap((w) => w.targets.map((t) => t.cluster)))];
  return html`<section><h2>waves</h2>
    <table class="waves">
      <thead><tr><th>wave</th>${clusters.map((c) => html`<th key=${c}>${c}</th>`)}</tr></thead>
      <tbody>${waves.map((wave) => html`<tr key=${wave.index} data-wave=${wave.index}>
        <th><span>${wave.label}</span> <span class=${`badge state-${wave.state}`}>${wave.state}</span></th>
        ${clusters.map((cluster) => html`<td key=${cluster}>${wave.targets.filter((t) => t.cluster === cluster).map((t) => html`<${Target} key=${t.service} target=${t} />`)}</td>`)}
      </tr>`)}</tbody>
    </table></section>`;
}
