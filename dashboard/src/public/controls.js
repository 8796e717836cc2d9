// The control state of a run (paused, throttle, a gate, who asked) and its controls: pause, resume, throttle
// (rows/s per shard), promote (past a gate) and abort (after a confirmation). A button only asks: the server publishes
// `run.control.requested`, verify applies it, and the new state comes back through the live document.
import { useState } from 'preact/hooks';
import { html } from './html.js';
import { operator, sendControl, token, useConfig } from './api.js';
import { formatCount, formatDuration, formatTime } from './format.js';

function ControlState({ control, ended }) {
  if (!control) return html`<p class="muted" data-testid="control-state">not paused, not throttled</p>`;
  const throttle = control.throttle && Object.keys(control.throttle).length > 0 ? control.throttle : undefined;
  return html`<p data-testid="control-state">
    ${control.paused ? html`<span class="badge hold-paused">paused</span> since ${formatTime(Date.parse(control.pausedAt))}` : html`<span class="badge state-running">${ended ? 'not paused' : 'running'}</span>`}
    ${throttle ? html` <span class="badge hold-throttled">throttled</span> ${[
      throttle.rowsPerSecond !== undefined ? `${formatCount(throttle.rowsPerSecond)} rows/s per shard` : '',
      throttle.batchSize !== undefined ? `batches of ${formatCount(throttle.batchSize)}` : '',
      throttle.pauseMs !== undefined ? `${formatDuration(throttle.pauseMs)} between batches` : '',
    ].filter(Boolean).join(', ')}` : null}
    ${control.gate ? html` <span class="badge">wave ${control.gate.wave + 1} waits for promote</span>` : null}
    ${control.pausedMs > 0 ? html` <span class="muted">paused ${formatDuration(control.pausedMs)} so far</span>` : null}
    ${control.updatedBy ? html` <span class="muted" data-testid="control-by">last changed by ${control.updatedBy}${control.updatedAt ? ` at ${formatTime(Date.parse(control.updatedAt))}` : ''}</span>` : null}
    ${control.held > 0 ? html` <span class="muted">${control.held} step${control.held === 1 ? '' : 's'} held until resume</span>` : null}
  </p>
  ${control.history.length > 0 ? html`<ul class="control-history" data-testid="control-history">${control.history.map((h) => html`<li key=${h.controlId}>
    <time>${formatTime(Date.parse(h.decidedAt))}</time> ${h.action} by ${h.requestedBy}: <span class=${h.outcome === 'applied' ? 'sent' : 'refused'}>${h.outcome}</span> — ${h.message}</li>`)}</ul>` : null}`;
}

function Identity({ needsToken, name, setName, bearer, setBearer }) {
  return html`<div class="identity">
    <label>your name <input name="operator" value=${name} maxlength="64" placeholder="e.g. alice" onInput=${(e) => { setName(e.currentTarget.value); operator.set(e.currentTarget.value); }} /></label>
    ${needsToken ? html`<label>dashboard token <input name="token" type="password" value=${bearer} autocomplete="off" onInput=${(e) => { setBearer(e.currentTarget.value); token.set(e.currentTarget.value); }} /></label>` : null}
  </div>`;
}

/** Most failed shards a frozen run's panel offers to retry one by one (the CLI takes any). */
const retryShardsShown = 20;

/** A frozen run waits for a person: retry the wave or a shard it stopped at, or roll it back (after a confirmation). */
function FrozenControls({ run, ready, ask, confirming, setConfirming }) {
  const { wave, failedShards } = run.frozen;
  return html`<p data-testid="frozen"><span class="badge state-failed">frozen</span> left as it stood by its failure policy: go on from where it stopped, or roll it back</p>
    <div class="buttons">
      ${wave !== null ? html`<button type="button" data-action="retry-wave" disabled=${!ready} onClick=${() => ask('retry', { target: { kind: 'wave', wave } })}>retry wave ${wave + 1}</button>` : null}
      ${failedShards.slice(0, retryShardsShown).map((shardId) => html`<button type="button" key=${shardId} data-action="retry-shard" disabled=${!ready} onClick=${() => ask('retry', { target: { kind: 'shard', shardId } })}>retry shard ${shardId.split(':').slice(-2).join(' #')}</button>`)}
      <button type="button" class="danger" data-action="rollback" disabled=${!ready} onClick=${() => setConfirming(true)}>roll back…</button>
    </div>
    ${confirming ? html`<div class="confirm" role="alertdialog" aria-label="confirm rollback">
      <p>Roll back frozen run <strong>${run.runId}</strong>${run.policyName ? html` (${run.policyName})` : null}? Its data is restored and every wave it touched goes back to its old images.</p>
      <button type="button" class="danger" data-action="confirm-rollback" onClick=${() => ask('abort', { reason: 'rollback of the frozen run' })}>yes, roll it back</button>
      <button type="button" data-action="cancel-rollback" onClick=${() => setConfirming(false)}>cancel</button>
    </div>` : null}`;
}

/** The controls panel of a run. */
export function Controls({ run }) {
  const config = useConfig();
  const [name, setName] = useState(operator.get());
  const [bearer, setBearer] = useState(token.get());
  const [rate, setRate] = useState('1000');
  const [confirming, setConfirming] = useState(false);
  const [result, setResult] = useState(undefined);
  const ended = run.endedAt !== null;
  const paused = run.control?.paused === true;
  const controls = config?.controls;

  const ask = async (action, extra = {}) => {
    setConfirming(false);
    setResult({ pending: true, text: `${action}: sending…` });
    const answer = await sendControl(run.runId, { action, operator: name, ...extra });
    setResult(answer.ok
      ? { ok: true, text: `${action} requested by ${answer.body.requestedBy} (control ${answer.body.controlId}); the state below changes once the run applies it` }
      : { ok: false, text: `${action} refused (${answer.status}): ${answer.body.error ?? ''}${answer.body.problems ? ` — ${answer.body.problems.join('; ')}` : ''}` });
  };
  const throttle = () => {
    const rowsPerSecond = Number(rate);
    ask('throttle', { throttle: rate.trim() === '' ? {} : { rowsPerSecond } });
  };
  const ready = name.trim() !== '';

  return html`<section class="controls"><h2>control</h2>
    <${ControlState} control=${run.control} ended=${ended} />
    ${controls === undefined ? null : !controls.enabled ? html`<p class="muted" data-testid="controls-off">${controls.reason}</p>` : run.frozen ? html`
      <${Identity} needsToken=${controls.needsToken} name=${name} setName=${setName} bearer=${bearer} setBearer=${setBearer} />
      <${FrozenControls} run=${run} ready=${ready} ask=${ask} confirming=${confirming} setConfirming=${setConfirming} />
      ${!ready ? html`<p class="muted">enter your name: every control records who sent it</p>` : null}
      ${result ? html`<p class=${result.pending ? 'muted' : result.ok ? 'sent' : 'refused'} data-testid="control-result">${result.text}</p>` : null}` : ended ? html`<p class="muted">the run has ended</p>` : html`
      <${Identity} needsToken=${controls.needsToken} name=${name} setName=${setName} bearer=${bearer} setBearer=${setBearer} />
      <div class="buttons">
        <button type="button" data-action="pause" disabled=${!ready || paused} onClick=${() => ask('pause')}>pause</button>
        <button type="button" data-action="resume" disabled=${!ready || !paused} onClick=${() => ask('resume')}>resume</button>
        ${run.control?.gate ? html`<button type="button" data-action="promote" disabled=${!ready} onClick=${() => ask('promote')}>promote wave ${run.control.gate.wave + 1}</button>` : null}
        <span class="throttle">
          <input name="rowsPerSecond" type="number" min="1" max="10000000" step="1" value=${rate} title="rows per second per shard; empty clears the throttle" onInput=${(e) => setRate(e.currentTarget.value)} />
          <button type="button" data-action="throttle" disabled=${!ready} onClick=${throttle}>throttle (rows/s per shard)</button>
        </span>
        <button type="button" class="danger" data-action="abort" disabled=${!ready} onClick=${() => setConfirming(true)}>abort…</button>
      </div>
      ${!ready ? html`<p class="muted">enter your name: every control records who sent it</p>` : null}
      ${confirming ? html`<div class="confirm" role="alertdialog" aria-label="confirm abort">
        <p>Abort run <strong>${run.runId}</strong>${run.policyName ? html` (${run.policyName})` : null}? Its failure policy is applied now: roll back (images and data) or freeze.</p>
        <button type="button" class="danger" data-action="confirm-abort" onClick=${() => ask('abort')}>yes, abort the run</button>
        <button type="button" data-action="cancel-abort" onClick=${() => setConfirming(false)}>cancel</button>
      </div>` : null}
      ${result ? html`<p class=${result.pending ? 'muted' : result.ok ? 'sent' : 'refused'} data-testid="control-result">${result.text}</p>` : null}`}
  </section>`;
}
