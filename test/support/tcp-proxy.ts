/**
 * A loopback TCP proxy in front of one server (a cluster's API server) that a test can cut: `refuse`
 * stops listening (connection refused, a stopped server), `blackhole` keeps accepting but never answers
 * (a network partition). Both end the connections already open.
 */
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

/** A running proxy: its port and how to cut it. */
export interface TcpProxy {
  port: number;
  /** How many connections clients opened through it so far. */
  accepted(): number;
  cut(mode: 'refuse' | 'blackhole'): Promise<void>;
  close(): Promise<void>;
}

/** Starts a proxy on a free loopback port forwarding to `host:port`. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let mode: 'forward' | 'blackhole' = 'forward';
  let accepted = 0;
  const track = (socket: Socket) => {
    open.add(socket);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => open.delete(socket));
  };
  const server = createServer((client) => {
    track(client);
    accepted += 1;
    if (mode === 'blackhole') return; // held open, never answered
    const upstream = connect(target.port, target.host);
    track(upstream);
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const dropAll = () => {
    for (const socket of open) socket.destroy();
  };
  return {
    port,
    accepted: () => accepted,
    async cut(to) {
      mode = 'blackhole';
      // close() stops listening at once and calls back when the last connection is gone.
      const closed = to === 'refuse' ? new Promise((resolve) => server.close(resolve)) : Promise.resolve();
      dropAll();
      await closed;
    },
    async close() {
      dropAll();
      if (server.listening) await new Promise((resolve) => server.close(resolve));
    },
  };
}
