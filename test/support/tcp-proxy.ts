/**
 * A real TCP proxy in front of a server (the shared PostgreSQL) that a test can cut and restore: `cut()` closes
 * every proxied connection and stops listening, so new connections are refused, as a database restart or a
 * failover looks to a client; `restore()` listens again on the same port.
 * @module
 */
import type { Socket, TCPSocketListener } from "bun";

interface Pair {
  client: Socket<Pair>;
  upstream?: Socket<Pair>;
  /** Bytes the client sent before the upstream connection was open. */
  pending: Uint8Array[];
  closed: boolean;
}

export interface TcpProxy {
  port: number;
  cut(): void;
  restore(): void;
  stop(): void;
  /** Connections accepted since the proxy started. */
  accepted(): number;
}

export function startTcpProxy(upstreamHost: string, upstreamPort: number): TcpProxy {
  const pairs = new Set<Pair>();
  let accepted = 0;
  const closePair = (pair: Pair) => {
    if (pair.closed) return;
    pair.closed = true;
    pairs.delete(pair);
    pair.client.terminate();
    pair.upstream?.terminate();
  };
  const listen = (port: number): TCPSocketListener<Pair> =>
    Bun.listen<Pair>({
      hostname: "127.0.0.1",
      port,
      socket: {
        open(client) {
          accepted += 1;
          const pair: Pair = { client, pending: [], closed: false };
          client.data = pair;
          pairs.add(pair);
          Bun.connect<Pair>({
            hostname: upstreamHost,
            port: upstreamPort,
            data: pair,
            socket: {
              open(upstream) {
                if (pair.closed) return upstream.terminate();
                pair.upstream = upstream;
                for (const chunk of pair.pending) upstream.write(chunk);
                pair.pending = [];
              },
              data(_upstream, chunk) {
                if (!pair.closed) pair.client.write(chunk);
              },
              close: () => closePair(pair),
              error: () => closePair(pair),
            },
          }).catch(() => closePair(pair));
        },
        data(client, chunk) {
          const pair = client.data;
          if (pair.upstream) pair.upstream.write(chunk);
          else pair.pending.push(new Uint8Array(chunk));
        },
        close: (client) => closePair(client.data),
        error: (client) => closePair(client.data),
      },
    });
  let listener: TCPSocketListener<Pair> | undefined = listen(0);
  const port = listener.port;
  return {
    port,
    cut() {
      listener?.stop(true);
      listener = undefined;
      for (const pair of [...pairs]) closePair(pair);
    },
    restore() {
      listener ??= listen(port);
    },
    stop() {
      this.cut();
    },
    accepted: () => accepted,
  };
}
