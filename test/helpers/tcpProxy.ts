import { createServer, type Server, Socket } from 'node:net';

/**
 * A TCP proxy in front of a real server, for simulating outages: `cut()` drops every open
 * connection (the client sees a network failure and reconnects), `block()` also refuses new ones
 * until `unblock()`, so the server looks unreachable (a crashed host, a partition). `stall()`
 * accepts new connections but lets the server's answers through one byte a second, for good:
 * the connection looks alive (no idle timeout ever fires) and is useless, as behind a failing
 * middlebox.
 */
export interface TcpProxy {
  /** The target URL with host and port replaced by the proxy's. */
  readonly url: string;
  cut(): void;
  block(): void;
  /** Drops every open connection; connections made until `unblock()` are stalled. */
  stall(): void;
  unblock(): void;
  close(): Promise<void>;
}

const STALLED_BYTE_MS = 1_000;

export async function startTcpProxy(targetUrl: string): Promise<TcpProxy> {
  const target = new URL(targetUrl);
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let mode: 'open' | 'blocked' | 'stalled' = 'open';

  const server: Server = createServer((client) => {
    if (mode === 'blocked') {
      client.destroy();
      return;
    }
    const stalled = mode === 'stalled';
    const upstream = new Socket();
    sockets.add(client).add(upstream);
    let trickle: NodeJS.Timeout | undefined;
    const drop = () => {
      clearInterval(trickle);
      if (trickle) timers.delete(trickle);
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    upstream.connect(Number(target.port), target.hostname, () => {
      client.pipe(upstream);
      if (!stalled) {
        upstream.pipe(client);
        return;
      }
      let held = Buffer.alloc(0);
      upstream.on('data', (chunk: Buffer) => {
        held = Buffer.concat([held, chunk]);
      });
      trickle = setInterval(() => {
        if (held.length === 0) return;
        client.write(held.subarray(0, 1));
        held = held.subarray(1);
      }, STALLED_BYTE_MS);
      timers.add(trickle);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('proxy has no TCP address');
  const url = new URL(targetUrl);
  url.hostname = '127.0.0.1';
  url.port = String(address.port);

  const cut = () => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  };
  return {
    url: url.toString().replace(/\/$/, ''),
    cut,
    block() {
      mode = 'blocked';
      cut();
    },
    stall() {
      mode = 'stalled';
      cut();
    },
    unblock() {
      mode = 'open';
    },
    async close() {
      mode = 'blocked';
      cut();
      for (const timer of timers) clearInterval(timer);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
