/**
 * A small stand-in for Fly's proxy in front of several real server processes, as far as media routing needs it
 * (https://fly.io/docs/networking/dynamic-request-routing/, https://fly.io/docs/blueprints/sticky-sessions/):
 * - a request goes to the machine named by `fly-force-instance-id`, else to the running machines in turn;
 * - `Fly-Client-IP` is set by the proxy (here from `x-test-client-ip`, standing in for distinct clients, else
 *   the socket address), replacing whatever the client sent;
 * - a response carrying `fly-replay: instance=<id>` is not passed on: the request is sent again, whole, to that
 *   machine with `fly-replay-src: instance=<source>;region=<region>;t=<µs>`, and that answer goes to the client;
 * - a replay to a machine the proxy cannot reach (unknown, stopped, killed) is a 502 from the proxy, as Fly's
 *   generic replay failure, unless the replay said `fallback=force_self`: then the request goes back to the
 *   machine that asked, with `fly-replay-failed: instance=…;replay_source=…;reason=…;elapsed_ms=…` and without
 *   `fly-replay-src`, and a fly-replay in that answer is refused ("Fallback requests cannot themselves issue
 *   fly-replay responses"); bodies over 1 MB are not replayed (Fly: "Requests larger than 1MB cannot be replayed");
 * - it is not kinder than Fly: it never retries elsewhere and never strips a client's `fly-replay-src`.
 * Every hop is recorded so tests can count replays and prove there was no second one.
 * @module
 */

export interface ProxyHop {
  method: string;
  path: string;
  machine: string;
  status: number;
  /** The machine whose fly-replay sent the request here; undefined for the first hop. */
  replayedFrom?: string;
  /** The request came back to the machine that asked for a replay the proxy could not carry out. */
  fallback?: true;
}

export interface ReplayProxy {
  url: string;
  hops: ProxyHop[];
  /** Makes a machine reachable (again) at a URL. */
  attach(machineId: string, url: string, region?: string): void;
  /** The machine is gone (stopped, killed): requests and replays to it fail as on Fly. */
  detach(machineId: string): void;
  /** A fetch through the proxy; `via` pins the first hop with fly-force-instance-id. */
  request(path: string, init?: RequestInit & { via?: string; clientIp?: string }): Promise<Response>;
  close(): Promise<void>;
}

/** Fly's documented replay body limit. */
const MAX_REPLAY_BODY = 1_000_000;

export function startReplayProxy(): ReplayProxy {
  const machines = new Map<string, { url: string; region: string }>();
  const hops: ProxyHop[] = [];
  let turn = 0;

  const proxyError = (status: number, message: string) =>
    new Response(`fly-proxy (test): ${message}\n`, {
      status,
      headers: { "content-type": "text/plain", server: "Fly/test" },
    });

  /** undefined when the machine could not be reached at all (the proxy's own failure, not the app's answer). */
  const forward = async (
    machine: string,
    method: string,
    path: string,
    headers: Headers,
    body: ArrayBuffer | undefined,
    hop: Partial<ProxyHop> = {},
  ) => {
    const target = machines.get(machine);
    if (target) {
      try {
        const res = await fetch(`${target.url}${path}`, { method, headers, body, redirect: "manual" });
        hops.push({ method, path, machine, status: res.status, ...hop });
        return res;
      } catch {
        // connection refused: a machine that died since it was attached
      }
    }
    hops.push({ method, path, machine, status: 502, ...hop });
    return undefined;
  };
  const unreachable = (machine: string) =>
    proxyError(
      502,
      `could not find a good candidate within 1 attempts at load balancing (instance ${machine} is not reachable)`,
    );

  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    maxRequestBodySize: 200 * 1024 * 1024,
    async fetch(request, srv) {
      const url = new URL(request.url);
      const path = `${url.pathname}${url.search}`;
      const headers = new Headers(request.headers);
      headers.set(
        "fly-client-ip",
        request.headers.get("x-test-client-ip") ?? srv.requestIP(request)?.address ?? "127.0.0.1",
      );
      headers.delete("x-test-client-ip");
      headers.delete("host");
      const forced = headers.get("fly-force-instance-id");
      headers.delete("fly-force-instance-id");
      const running = [...machines.keys()];
      const first = forced ?? running[turn++ % Math.max(1, running.length)];
      if (!first) return proxyError(503, "no machines are running");
      const body = request.body ? await request.arrayBuffer() : undefined;

      const answer = await forward(first, request.method, path, headers, body);
      if (!answer) return unreachable(first);
      const replay = answer.headers.get("fly-replay");
      if (!replay) return answer;
      await answer.arrayBuffer();
      const instance = /(?:^|;)\s*instance=([^;\s]+)/.exec(replay)?.[1];
      if (!instance) return proxyError(502, `unsupported fly-replay value: ${replay}`);
      if (body && body.byteLength > MAX_REPLAY_BODY) return proxyError(502, "request body too large to replay");
      const source = machines.get(first);
      const replayHeaders = new Headers(headers);
      replayHeaders.set("fly-replay-src", `instance=${first};region=${source?.region ?? "ewr"};t=${Date.now() * 1000}`);
      const started = Date.now();
      const replayed = await forward(instance, request.method, path, replayHeaders, body, { replayedFrom: first });
      if (!replayed) {
        if (!/(?:^|;)\s*fallback=force_self/.test(replay)) return unreachable(instance);
        const fallbackHeaders = new Headers(headers);
        fallbackHeaders.set(
          "fly-replay-failed",
          `instance=${instance};app=flightdeck;region=${source?.region ?? "ewr"};replay_source=${first};reason=no_candidate;elapsed_ms=${Date.now() - started}`,
        );
        const back = await forward(first, request.method, path, fallbackHeaders, body, { fallback: true });
        if (!back) return unreachable(first);
        if (back.headers.has("fly-replay")) {
          await back.arrayBuffer();
          return proxyError(502, `fallback request answered with fly-replay by ${first}`);
        }
        return back;
      }
      if (replayed.headers.has("fly-replay")) {
        // The app asked to replay a replayed request: a loop on Fly. Recorded (the hop above) and refused.
        await replayed.arrayBuffer();
        return proxyError(502, `replay loop: ${instance} answered a replayed request with fly-replay`);
      }
      return replayed;
    },
  });
  const url = `http://127.0.0.1:${server.port}`;

  return {
    url,
    hops,
    attach: (machineId, target, region = "ewr") => void machines.set(machineId, { url: target, region }),
    detach: (machineId) => void machines.delete(machineId),
    request: (path, init = {}) => {
      const { via, clientIp, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (via) headers.set("fly-force-instance-id", via);
      if (clientIp) headers.set("x-test-client-ip", clientIp);
      return fetch(`${url}${path}`, { ...rest, headers });
    },
    close: async () => {
      await server.stop(true);
    },
  };
}
