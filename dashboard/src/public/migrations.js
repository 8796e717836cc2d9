// The migrations: a bar per migration (rows, rows/s, ETA or paused/throttled), a rows/s chart, and the
// shard table grouped by state (failed first) so hundreds of shards stay readable.
import { html } from './html.js';
import { formatCount, formatDuration, percentOf } from './format.js';
import { RateChart } from './chart.js';

/** States whose groups start open; the others (completed, pending, restored) start folded when long. */
const openStates = new Set(['failed', 'running', 'restoring']);

function Bar({ fraction, hold }) {
  return html`<div class=${`bar${hold ? ` bar-${hold}` : ''}`}><div class="fill" style=${{ width: percentOf(fraction) }}></div></div>`;
}

function Speed({ rate, eta, hold, unit }) {
  if (hold === 'paused') return html`<span class="badge hold-paused">paused</span>`;
  return html`${rate === null ? '–' : `${formatCount(rate)} ${unit}/s`}${hold === 'throttled' ? html` <span class="badge hold-throttled">throttled</span>` : null}${eta !== null ? html` <span class="eta">ETA ${formatDuration(eta)}</span>` : null}`;
}

function ShardRow({ shard, unit }) {
  return html`<tr data-shard=${shard.index} data-state=${shard.state}>
    <td class="num">${shard.index}</td>
    <td><span class=${`badge state-${shard.state}`}>${shard.state}</span></td>
    <td class="progress"><${Bar} fraction=${shard.fraction} hold=${shard.hold} /></td>
    <td class="num" data-testid="shard-rows">${formatCount(shard.scanned)}${shard.estimated ? ` / ~${formatCount(shard.estimated)}` : ''}</td>
    <td class="num">${formatCount(shard.changed)}</td>
    <td class="num speed"><${Speed} rate=${shard.rowsPerSecond} eta=${shard.etaMs} hold=${shard.hold} unit=${unit} /></td>
    <td class="num">${shard.batchSize === null ? '–' : formatCount(shard.batchSize)}</td>
    <td class="num">${formatCount(shard.batches)}${shard.backoffs ? html` <span class="muted" title="times the database pushed back">(${shard.backoffs} backoffs)</span>` : null}</td>
    <td class="num">${shard.attempt}</td>
    <td class="error">${shard.error ? html`${shard.error.key !== null ? html`<code>key ${shard.error.key}</code>: ` : null}${shard.error.message}` : null}</td>
  </tr>`;
}

function ShardGroup({ state, shards, unit }) {
  return html`<details class="shard-group" open=${openStates.has(state) || shards.length <= 20} data-group=${state}>
    <summary><span class=${`badge state-${state}`}>${state}</span> ${shards.length} shard${shards.length === 1 ? '' : 's'}</summary>
    <table class="shards">
      <thead><tr><th>#</th><th>state</th><th>progress</th><th>rows scanned</th><th>changed</th><th>rows/s · ETA</th><th>batch size</th><th>batches</th><th>attempt</th><th>last error (by key)</th></tr></thead>
      <tbody>${shards.map((shard) => html`<${ShardRow} key=${shard.key} shard=${shard} unit=${unit} />`)}</tbody>
    </table>
  </details>`;
}

function Migration({ migration }) {
  const unit = migration.store === 'mongodb' ? 'docs' : 'rows';
  const groups = [];
  for (const shard of migration.shards) {
    const last = groups.at(-1);
    if (last && last.state === shard.state) last.shards.push(shard);
    else groups.push({ state: shard.state, shards: [shard] });
  }
  const hold = migration.shards.find((s) => s.hold)?.hold;
  const counts = Object.entries(migration.shardCounts).map(([state, n]) => `${n} ${state}`).join(' · ');
  return html`<article class="migration" data-migration=${migration.ref}>
    <h3>${migration.ref} <span class="muted">${migration.store}</span></h3>
    <div class="migration-line">
      <${Bar} fraction=${migration.fraction} hold=${hold} />
      <span data-testid="migration-rows">${formatCount(migration.rows)}${migration.expectedRows ? ` / ${formatCount(migration.expectedRows)}` : ''} ${unit}</span>
      <span class="speed" data-testid="migration-speed"><${Speed} rate=${migration.rowsPerSecond} eta=${migration.etaMs} hold=${hold} unit=${unit} /></span>
      <span class="muted">${migration.shardsTotal} shards${counts ? `: ${counts}` : ''}</span>
      ${migration.startsAfter ? html`<span class="muted">starts after ${migration.startsAfter}</span>` : null}
    </div>
    ${migration.rates.length > 1 ? html`<${RateChart} rates=${migration.rates} unit=${unit} />` : null}
    ${groups.map((group) => html`<${ShardGroup} key=${group.state} state=${group.state} shards=${group.shards} unit=${unit} />`)}
  </article>`;
}

/** Every migration of the run. */
export function Migrations({ migrations }) {
  if (migrations.length === 0) return null;
  return html`<section><h2>migrations</h2>${migrations.map((m) => html`<${Migration} key=${m.ref} migration=${m} />`)}</section>`;
}
