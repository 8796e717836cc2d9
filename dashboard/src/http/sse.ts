/**
 * Server-sent events (WHATWG HTML §9.2): a response kept open, one `event:`/`id:`/`data:` block per
 * document. `retry:` makes a dropped page reconnect within a second; the browser then sends the last id
 * it had as `Last-Event-ID`, and the hub sends the current document only if it is a newer one.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Subscriber } from '../adapters/live.ts';

/** How often a comment line keeps idle connections (and proxies) open. */
const keepAliveMs = 15_000;

/** Opens the stream on `res`; the returned subscriber writes `event` blocks; `onClose` runs once the page goes. */
export function openEventStream(req: IncomingMessage, res: ServerResponse, event: string, headers: Record<string, string>, onClose: () => void): Subscriber {
  res.writeHead(200, { ...headers, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  res.write('retry: 1000\n\n');
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), keepAliveMs);
  keepAlive.unref();
  req.socket.setNoDelay(true);
  const close = (): void => {
    clearInterval(keepAlive);
    onClose();
  };
  res.once('close', close);
  return {
    // JSON text never holds a raw newline, so the document is one `data:` line.
    send(id, json) {
      res.write(`event: ${event}\nid: ${id}\ndata: ${json}\n\n`);
    },
  };
}
