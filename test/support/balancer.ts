/**
 * A small HTTP/1.1 load balancer standing in for the Fly proxy in rollout tests: round-robin over backends
 * with pooled keep-alive connections. It retries only what provably was not sent (connection refused, or a
 * pooled connection the backend had already closed); a request written to a backend that then closes
 * without a full response is answered 502 and counted as lost, never retried, because a proxy cannot know
 * whether the backend acted on it (Fly's proxy retries such a request only in some cases). `cordon` is
 * what the Fly proxy does once it learns a machine is stopping: no new requests go there.
 * GET only, bodies with Content-Length only: enough for the rollout load.
 * @module
 */
import type { Server } from "bun";
import { Http1Connection } from "./http1-connection.ts";

export interface BackendStats {
  name: string;
  port: number;
  /** Responses forwarded from this backend, and how many of them said `Connection: close`. */
  answered: number;
  closing: number;
}

export interface BalancerStats {
  /** Attempts abandoned before anything was sent (refused, or a pooled connection found closed). */
  retriedUnsent: number;
  /** Requests sent to a backend that got no full response: answered 502. */
  lost: number;
  lostReasons: string[];
  /** Requests that found no backend to try (answered 503). */
  unrouted: number;
}

interface Backend extends BackendStats {
  idle: Http1Connection[];
  routable: boolean;
}

const MAX_ATTEMPTS = 8;

export class Balancer {
  readonly stats: BalancerStats = { retriedUnsent: 0, lost: 0, lostReasons: [], unrouted: 0 };
  private readonly backends: Backend[] = [];
  private next = 0;
  private readonly server: Server<undefined>;

  constructor() {
    this.server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (request) => this.forward(request) });
  }

  get port(): number {
    return this.server.port ?? 0;
  }

  add(name: string, port: number): void {
    this.backends.push({ name, port, answered: 0, closing: 0, idle: [], routable: true });
  }

  /** Stops routing new requests to `name`; requests already sent there still get their answers. */
  cordon(name: string): void {
    this.backend(name).routable = false;
  }

  remove(name: string): BackendStats {
    const backend = this.backend(name);
    this.backends.splice(this.backends.indexOf(backend), 1);
    for (const connection of backend.idle) connection.close();
    const { idle: _idle, routable: _routable, ...stats } = backend;
    return stats;
  }

  async stop(): Promise<void> {
    for (const backend of this.backends) for (const connection of backend.idle) connection.close();
    await this.server.stop(true);
  }

  private backend(name: string): Backend {
    const backend = this.backends.find((b) => b.name === name);
    if (!backend) throw new Error(`no backend named ${name}`);
    return backend;
  }

  private pick(): Backend | undefined {
    const routable = this.backends.filter((b) => b.routable);
    return routable[this.next++ % Math.max(1, routable.length)];
  }

  private async forward(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const backend = this.pick();
      if (!backend) break;
      let connection = backend.idle.pop();
      if (!connection?.usable) {
        connection?.close();
        const opened = await Http1Connection.open(backend.port);
        if (opened === "refused") {
          this.stats.retriedUnsent++;
          continue;
        }
        connection = opened;
      }
      const outcome = await connection.send(path);
      if (outcome.kind === "closed-before-send") {
        this.stats.retriedUnsent++;
        continue;
      }
      if (outcome.kind === "lost") {
        this.stats.lost++;
        if (this.stats.lostReasons.length < 10) this.stats.lostReasons.push(`${backend.name}: ${outcome.reason}`);
        return Response.json({ error: { code: "bad_gateway", message: outcome.reason } }, { status: 502 });
      }
      backend.answered++;
      if (outcome.closing) backend.closing++;
      else backend.idle.push(connection);
      const contentType = outcome.headers["content-type"];
      return new Response(outcome.body, {
        status: outcome.status,
        headers: contentType ? { "content-type": contentType } : {},
      });
    }
    this.stats.unrouted++;
    return Response.json(
      { error: { code: "no_backend", message: "no backend accepted the request" } },
      { status: 503 },
    );
  }
}
