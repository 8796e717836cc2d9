/**
 * Our function host: a small node:http server serving one FunctionModule — CloudEvents on POST /
 * (binary and structured, decoded by the events HTTP binding), /health/readiness, /health/liveness and
 * Prometheus /metrics. Why not faas-js-runtime here: it installs process-wide signal and
 * uncaughtException handlers that call process.exit(0) (so several functions cannot share a process
 * and crashes exit "successfully"), keeps its Prometheus registry private (our metrics could not be
 * served), and answers a malformed CloudEvent with 500 (retried) instead of 400 (dead-lettered).
 * Function modules keep the faas-js-runtime shape, so `func deploy` still runs them there.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeHttp } from '@upshift/events';
import { UpshiftError } from '../errors.ts';
import { markChecked } from './checked-events.ts';
import type { FunctionModule } from './function.ts';
import { redactCredentials } from '../redact.ts';

/** A running host. */
export interface RunningHost {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const bodyLimitBytes = 1024 * 1024;

/** Serves `fn` on `port` (0 = any free port) at 127.0.0.1 unless `host` says otherwise. */
export async function startHost(fn: FunctionModule, options: { port: number; host?: string }): Promise<RunningHost> {
  const server = createServer((request, response) => {
    void route(fn, request, response).catch((err: unknown) => send(response, 500, { error: redactCredentials(String(err)) }));
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/`, port, close: () => closeServer(server) };
}

async function route(fn: FunctionModule, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = (request.url ?? '/').split('?')[0];
  if (request.method === 'POST' && path === '/') return deliver(fn, request, response);
  if (request.method === 'GET' && path === '/health/readiness') return probe(response, await fn.readiness());
  if (request.method === 'GET' && path === '/health/liveness') return probe(response, await fn.liveness());
  if (request.method === 'GET' && path === '/metrics') {
    response.writeHead(200, { 'content-type': fn.metrics.registry.contentType });
    response.end(await fn.metrics.registry.metrics());
    return;
  }
  send(response, 404, { error: 'not found' });
}

async function deliver(fn: FunctionModule, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const body = await readBody(request);
  if (body === undefined) return send(response, 413, { error: 'body too large' });
  let event: unknown;
  try {
    event = markChecked(decodeHttp({ headers: request.headers, body }));
  } catch (err) {
    const violation = new UpshiftError('CONTRACT_VIOLATION', (err as Error).message);
    return send(response, violation.status, { error: violation.toJSON() });
  }
  const result = await fn.handle({ headers: request.headers }, event);
  send(response, result.statusCode, result.body);
}

function probe(response: ServerResponse, report: { ok: boolean }): void {
  send(response, report.ok ? 200 : 503, report);
}

function send(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent) return;
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

async function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > bodyLimitBytes) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
