/* global document, location */
// The page: the runs list at `/`, a run at `/runs/<run id>`. Everything shown comes as JSON from the
// dashboard's server and is rendered as text by preact.
import { render } from 'preact';
import { html } from './html.js';
import { takeTokenFromAddress } from './api.js';
import { RunsPage } from './runs.js';
import { RunPage } from './run.js';

function App() {
  const match = /^\/runs\/([^/]+)$/.exec(location.pathname);
  return match ? html`<${RunPage} runId=${decodeURIComponent(match[1])} />` : html`<${RunsPage} />`;
}

takeTokenFromAddress();
render(html`<${App} />`, document.getElementById('app'));
