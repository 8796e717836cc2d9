/**
 * The dashboard's HTTP server (plain node:http; see the README for why): the page, its files, the runs
 * list and run documents as JSON and as server-sent events, and the control POSTs. Every response carries
 * the security headers; a request naming a Host the dashboard does not answer to is refused before
 * anything else (DNS rebinding), and a control must come from the page itself with the token.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { RunId } from '@upshift/events';
import { allowedHosts, controlAccess, hostAllowed, refuseControl, sameOrigin, type AccessSettings } from '../core/access.ts';
import { controlRequestData, parseControlRequest } from '../core/control-request.ts';
import { contentSecurityPolicy, pageShell, securityHeaders } from '../core/page.ts';
import type { ControlPublisher } from '../adapters/control-publisher.ts';
import type { DocumentBuilder, LiveDocuments } from '../adapters/live.ts';
import { importMap, loadAssets } from './assets.ts';
import { openEventStream } from './sse.ts';

/** What the server needs from the rest of the dashboard. */
export interface ServerParts {
  readonly access: AccessSettings;
  readonly live: LiveDocuments;
  /** Builders of the documents: the runs list, and one run (undefined when the store has no such run). */
  readonly runsList: () => DocumentBuilder;
  readonly run: (runId: string) => DocumentBuilder;
  /** Whether the run exists and may take a control: not ended, or failed (it may be frozen); other ended runs are refused here already. */
  readonly runOpen: (runId: string) => Promise<boolean | undefined>;
  /** Undefined: no brokers, controls cannot be sent. */
  readonly publisher: ControlPublisher | undefined;
  readonly log: (message: string, fields?: Record<string, unknown>) => void;
}

/** Largest control body accepted. */
const maxBodyBytes = 4096;

type Route = (req: IncomingMessage, res: ServerResponse, match: RegExpExecArray) => Promise<void>;

/** Creates the server; the caller listens. The Host check needs the address listened on (`port` once listening). */
export function createDashboardServer(parts: ServerParts, listen: { host: string; port: () => number }): Server {
  const assets = loadAssets();
  const csp = contentSecurityPolicy(importMap);
  const headers = securityHeaders(csp);
  const shell = pageShell(importMap);
  const controlsOf = () => {
    const access = controlAccess(parts.access);
    if (access.enabled && !parts.publisher) return { enabled: false, reason: 'controls are off: no Kafka brokers to send them to (--brokers)' };
    return access;
  };

  const send = (res: ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void => {
    res.writeHead(status, { ...headers, 'content-type': type, 'cache-control': 'no-store', ...extra });
    res.end(body);
  };
  const json = (res: ServerResponse, status: number, value: unknown): void => send(res, status, 'application/json; charset=utf-8', JSON.stringify(value));
  const runIdOf = (match: RegExpExecArray): string | undefined => {
    const id = match[1] ?? '';
    return RunId.safeParse(id).success ? id : undefined;
  };

  const stream = async (req: IncomingMessage, res: ServerResponse, key: string, event: string, build: DocumentBuilder): Promise<void> => {
    let unsubscribe = () => undefined as void;
    let closed = false;
    const subscriber = openEventStream(req, res, event, headers, () => { closed = true; unsubscribe(); });
    const lastEventId = typeof req.headers['last-event-id'] === 'string' ? req.headers['last-event-id'] : undefined;
    const subscribed = await parts.live.subscribe(key, build, subscriber, lastEventId);
    unsubscribe = subscribed.unsubscribe;
    if (closed) unsubscribe();
    if (!subscribed.found) {
      res.write('event: missing\ndata: {}\n\n');
      res.end();
    }
  };

  const routes: Array<[string, RegExp, Route]> = [
    ['GET', /^\/(?:runs\/[^/]*)?$/, async (_req, res) => send(res, 200, 'text/html; charset=utf-8', shell)],
    ['GET', /^\/healthz$/, async (_req, res) => json(res, 200, { ok: true })],
    ['GET', /^\/favicon\.ico$/, async (_req, res) => send(res, 204, 'image/x-icon', '')],
    ['GET', /^\/api\/config$/, async (_req, res) => json(res, 200, { controls: controlsOf() })],
    ['GET', /^\/api\/runs$/, async (_req, res) => send(res, 200, 'application/json; charset=utf-8', (await parts.live.current('runs', parts.runsList())) ?? '{"runs":[]}')],
    ['GET', /^\/api\/runs\/stream$/, (req, res) => stream(req, res, 'runs', 'runs', parts.runsList())],
    ['GET', /^\/api\/runs\/([^/]+)$/, async (_req, res, match) => {
      const runId = runIdOf(match);
      const body = runId ? await parts.live.current(`run:${runId}`, parts.run(runId)) : undefined;
      if (body === undefined) return json(res, 404, { error: 'no such run' });
      send(res, 200, 'application/json; charset=utf-8', body);
    }],
    ['GET', /^\/api\/runs\/([^/]+)\/stream$/, async (req, res, match) => {
      const runId = runIdOf(match);
      if (!runId) return json(res, 404, { error: 'not a run id' });
      await stream(req, res, `run:${runId}`, 'run', parts.run(runId));
    }],
    ['POST', /^\/api\/runs\/([^/]+)\/controls$/, (req, res, match) => control(req, res, runIdOf(match))],
  ];

  const control = async (req: IncomingMessage, res: ServerResponse, runId: string | undefined): Promise<void> => {
    const refused = refuseControl(parts.access, req.headers.authorization);
    if (refused) return json(res, refused.status, { error: refused.message });
    const origin = { host: req.headers.host, origin: req.headers.origin, secFetchSite: req.headers['sec-fetch-site'] as string | undefined };
    if (!sameOrigin(origin)) return json(res, 403, { error: 'controls are accepted from the dashboard page only' });
    if (!/^application\/json(;|$)/.test(req.headers['content-type'] ?? '')) return json(res, 415, { error: 'send the control as application/json' });
    if (!parts.publisher) return json(res, 503, { error: 'controls are off: no Kafka brokers to send them to' });
    if (!runId) return json(res, 404, { error: 'not a run id' });
    const body = await readBody(req);
    if (body === undefined) return json(res, 413, { error: `the body is limited to ${maxBodyBytes} bytes` });
    let parsedJson: unknown;
    try {
      parsedJson = JSON.parse(body);
    } catch {
      return json(res, 400, { error: 'the body is not JSON' });
    }
    const parsed = parseControlRequest(parsedJson);
    if (!parsed.ok) return json(res, 400, { error: 'invalid control', problems: parsed.problems });
    const open = await parts.runOpen(runId);
    if (open === undefined) return json(res, 404, { error: 'no such run' });
    if (!open) return json(res, 409, { error: 'the run has ended' });
    const data = controlRequestData(runId, parsed.body, randomUUID);
    await parts.publisher.publish(data);
    parts.log('control requested', { runId, controlId: data.controlId, action: data.action, requestedBy: data.requestedBy });
    json(res, 202, { controlId: data.controlId, action: data.action, requestedBy: data.requestedBy });
  };

  return createServer((req, res) => {
    if (!hostAllowed(allowedHosts(listen.host, listen.port()), req.headers.host)) return json(res, 421, { error: 'this dashboard does not answer to that host name' });
    const path = new URL(req.url ?? '/', 'http://dashboard').pathname;
    const asset = req.method === 'GET' ? assets.get(path) : undefined;
    if (asset) return send(res, 200, asset.type, asset.body, { 'cache-control': 'no-cache' });
    for (const [method, pattern, route] of routes) {
      const match = pattern.exec(path);
      if (!match) continue;
      if (req.method !== method) return json(res, 405, { error: 'method not allowed' });
      route(req, res, match).catch((error: unknown) => {
        parts.log('request failed', { path, error: error instanceof Error ? error.message : String(error) });
        if (!res.headersSent) json(res, 500, { error: 'the dashboard could not answer; see its log' });
        else res.end();
      });
      return;
    }
    json(res, 404, { error: 'not found' });
  });
}

/** The request body as text, or undefined when it is larger than the limit. */
async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
