import type { Socket } from "bun";

/**
 * A TCP pass-through that slams the first `drop` connections shut as soon as a request arrives, to
 * reproduce the dropped connections a registry push must survive (proxies, load balancers, deploys).
 */
export function startDropper(upstreamPort: number, drop: number) {
  let remaining = drop;
  let dropped = 0;
  type Peer = { peer?: Socket<Peer>; pending: Uint8Array[]; closed?: boolean };
  const flush = (s: Socket<Peer>) => {
    const q = s.data.pending;
    while (q.length > 0) {
      const chunk = q[0]!;
      const n = s.write(chunk);
      if (n < chunk.length) {
        q[0] = chunk.subarray(n);
        return;
      }
      q.shift();
    }
  };
  const send = (to: Socket<Peer> | undefined, data: Uint8Array, backlog: Uint8Array[]) => {
    if (!to) {
      backlog.push(data.slice());
      return;
    }
    to.data.pending.push(data.slice());
    flush(to);
  };
  const server = Bun.listen<Peer>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(client) {
        client.data = { pending: [] };
        if (remaining > 0) return;
        const early: Uint8Array[] = [];
        client.data.pending = [];
        Bun.connect<Peer>({
          hostname: "127.0.0.1",
          port: upstreamPort,
          socket: {
            open(up) {
              up.data = { peer: client, pending: early };
              client.data.peer = up;
              flush(up);
            },
            data(up, chunk) {
              send(up.data.peer, chunk, []);
            },
            drain: flush,
            close(up) {
              up.data.peer?.end();
            },
            error(up) {
              up.data.peer?.end();
            },
          },
        }).catch(() => client.end());
        (client.data as Peer & { early?: Uint8Array[] }).early = early;
      },
      data(client, chunk) {
        if (!client.data.peer && remaining > 0) {
          remaining--;
          dropped++;
          client.terminate();
          return;
        }
        const early = (client.data as Peer & { early?: Uint8Array[] }).early ?? [];
        send(client.data.peer, chunk, early);
      },
      drain: flush,
      close(client) {
        client.data.peer?.end();
      },
      error(client) {
        client.data.peer?.end();
      },
    },
  });
  return {
    host: `127.0.0.1:${server.port}`,
    dropped: () => dropped,
    close: () => server.stop(true),
  };
}
