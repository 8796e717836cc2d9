/* global window, EventSource, history, location */
// The page's I/O: live documents over server-sent events, the dashboard's settings, and control POSTs
// with the token (kept in this tab's sessionStorage; never in a cookie, so no other site can use it).
import { useEffect, useState } from 'preact/hooks';

const tokenKey = 'upshift-dashboard-token';
const operatorKey = 'upshift-dashboard-operator';

/**
 * Takes a token handed over in the address (`#token=…`, as `upshift dashboard` prints it) into this
 * tab's storage and removes it from the address bar and history.
 */
export function takeTokenFromAddress() {
  const match = /^#token=([^&]+)$/.exec(location.hash);
  if (!match) return;
  sessionStorage.setItem(tokenKey, decodeURIComponent(match[1]));
  history.replaceState(null, '', location.pathname + location.search);
}

export const token = {
  get: () => sessionStorage.getItem(tokenKey) ?? '',
  set: (value) => (value ? sessionStorage.setItem(tokenKey, value) : sessionStorage.removeItem(tokenKey)),
};

export const operator = {
  get: () => localStorage.getItem(operatorKey) ?? '',
  set: (value) => localStorage.setItem(operatorKey, value),
};

/**
 * The document streamed at `url` (event `name`), kept current: `{ doc, status }` where status is
 * connecting, live, reconnecting or missing (the server knows no such document yet; asked again every 2 s).
 */
export function useLiveDocument(url, name) {
  const [state, setState] = useState({ doc: undefined, status: 'connecting' });
  useEffect(() => {
    let source;
    let retry;
    let closed = false;
    const open = () => {
      source = new EventSource(url);
      source.addEventListener(name, (event) => setState({ doc: JSON.parse(event.data), status: 'live' }));
      source.addEventListener('missing', () => {
        source.close();
        setState((s) => ({ ...s, status: 'missing' }));
        if (!closed) retry = window.setTimeout(open, 2000);
      });
      source.onerror = () => setState((s) => (s.status === 'missing' ? s : { ...s, status: 'reconnecting' }));
    };
    open();
    return () => {
      closed = true;
      window.clearTimeout(retry);
      source?.close();
    };
  }, [url, name]);
  return state;
}

/** The dashboard's settings (whether controls are on, and whether they need the token). */
export function useConfig() {
  const [config, setConfig] = useState(undefined);
  useEffect(() => {
    fetch('/api/config').then((r) => r.json()).then(setConfig, () => setConfig({ controls: { enabled: false, reason: 'the dashboard did not answer' } }));
  }, []);
  return config;
}

/** POSTs a control; resolves with `{ ok, status, body }`. A press gets one control id, reused if sent again. */
export async function sendControl(runId, control) {
  const headers = { 'content-type': 'application/json' };
  const bearer = token.get();
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  const body = JSON.stringify({ controlId: crypto.randomUUID(), ...control });
  try {
    const response = await fetch(`/api/runs/${encodeURIComponent(runId)}/controls`, { method: 'POST', headers, body });
    return { ok: response.ok, status: response.status, body: await response.json().catch(() => ({})) };
  } catch (error) {
    return { ok: false, status: 0, body: { error: String(error) } };
  }
}
