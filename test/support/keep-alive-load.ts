/**
 * A bounded keep-alive load like wrk's: `connections` clients each send back-to-back requests on one
 * connection, reconnecting when the server closes it, until `stop()`. Every request is counted in exactly
 * one bucket, so "0 lost" is a claim about every request the clients wrote.
 * @module
 */
import { Http1Connection } from "./http1-connection.ts";

export interface LoadCounts {
  /** Full responses (any status), of which `closing` said `Connection: close`. */
  answered: number;
  closing: number;
  /** Status codes other than 200 among the answered. */
  non200: number;
  /** Connects refused: nothing sent; the client tries again (like wrk, and like any proxy would). */
  refused: number;
  /** Requests not sent because the server had closed the idle connection first; retried on a new one. */
  closedBeforeSend: number;
  /** Requests written that got no full response: the number that must be 0. */
  lost: number;
  lostReasons: string[];
}

export interface KeepAliveLoad {
  counts: LoadCounts;
  /** Stops the clients after their current request and resolves with the final counts. */
  stop(): Promise<LoadCounts>;
}

export function startKeepAliveLoad(port: number, options: { connections: number; paths: string[] }): KeepAliveLoad {
  const counts: LoadCounts = {
    answered: 0,
    closing: 0,
    non200: 0,
    refused: 0,
    closedBeforeSend: 0,
    lost: 0,
    lostReasons: [],
  };
  let running = true;

  async function client(index: number) {
    let connection: Http1Connection | undefined;
    for (let n = 0; running; n++) {
      if (!connection?.usable) {
        connection?.close();
        const opened = await Http1Connection.open(port);
        if (opened === "refused") {
          counts.refused++;
          connection = undefined;
          await Bun.sleep(5);
          continue;
        }
        connection = opened;
      }
      const outcome = await connection.send(options.paths[(index + n) % options.paths.length] ?? "/");
      if (outcome.kind === "closed-before-send") counts.closedBeforeSend++;
      else if (outcome.kind === "lost") {
        counts.lost++;
        if (counts.lostReasons.length < 10) counts.lostReasons.push(outcome.reason);
      } else {
        counts.answered++;
        if (outcome.closing) counts.closing++;
        if (outcome.status !== 200) counts.non200++;
      }
    }
    connection?.close();
  }

  const clients = Array.from({ length: options.connections }, (_, i) => client(i));
  return {
    counts,
    async stop() {
      running = false;
      await Promise.all(clients);
      return counts;
    },
  };
}
