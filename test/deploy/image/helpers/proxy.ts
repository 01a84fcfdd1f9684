/**
 * A small stateful proxy in front of the real registry: it records every request, counts blob bytes
 * sent, injects faults (status codes for matching requests), and can turn the registry into a
 * Bearer-token registry (token endpoint + WWW-Authenticate: Bearer challenge) so that flow is real too.
 */
export interface ProxyRequestLog {
  method: string;
  path: string;
  query: string;
  bodyBytes: number;
  status: number;
  contentRange?: string;
}

export interface Fault {
  method?: string;
  path?: RegExp;
  status: number;
  /** How many matching requests fail; Infinity for always. */
  times: number;
}

export interface RegistryProxy {
  url: string;
  host: string;
  requests: ProxyRequestLog[];
  tokenRequests: { scopes: string[]; authorized: boolean }[];
  faults: Fault[];
  /** Bytes of request bodies sent to blob upload endpoints since the last reset. */
  uploadedBlobBytes(): number;
  reset(): void;
  close(): Promise<void>;
}

export function startRegistryProxy(opts: {
  upstream: string;
  upstreamUsername: string;
  upstreamPassword: string;
  /** Require Bearer tokens from clients; the token endpoint accepts these Basic credentials. */
  bearer?: { username: string; password: string };
  /** Forward the client's Authorization header as is (plain proxy) — default when not bearer. */
}): RegistryProxy {
  const requests: ProxyRequestLog[] = [];
  const tokenRequests: { scopes: string[]; authorized: boolean }[] = [];
  const faults: Fault[] = [];
  /** token -> the scopes granted with it; requests are checked against them like a real token server. */
  const tokens = new Map<string, string[]>();
  const upstreamBasic = `Basic ${btoa(`${opts.upstreamUsername}:${opts.upstreamPassword}`)}`;

  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const url = new URL(req.url);
      const self = `http://${url.host}`;
      if (url.pathname === "/token") {
        const auth = req.headers.get("authorization");
        const ok = !!opts.bearer && auth === `Basic ${btoa(`${opts.bearer.username}:${opts.bearer.password}`)}`;
        tokenRequests.push({ scopes: url.searchParams.getAll("scope"), authorized: ok });
        if (!ok)
          return Response.json({ errors: [{ code: "UNAUTHORIZED", message: "bad credentials" }] }, { status: 401 });
        const token = crypto.randomUUID();
        tokens.set(token, url.searchParams.getAll("scope"));
        return Response.json({ token, expires_in: 300 });
      }
      const body = req.method === "GET" || req.method === "HEAD" ? undefined : new Uint8Array(await req.arrayBuffer());
      const log: ProxyRequestLog = {
        method: req.method,
        path: url.pathname,
        query: url.search,
        bodyBytes: body?.length ?? 0,
        status: 0,
        contentRange: req.headers.get("content-range") ?? undefined,
      };
      requests.push(log);
      const fault = faults.find(
        (f) => f.times > 0 && (!f.method || f.method === req.method) && (!f.path || f.path.test(url.pathname)),
      );
      if (fault) {
        fault.times--;
        log.status = fault.status;
        return Response.json(
          { errors: [{ code: "UNAVAILABLE", message: "injected fault" }] },
          { status: fault.status },
        );
      }
      const headers = new Headers(req.headers);
      headers.delete("host");
      if (opts.bearer) {
        const auth = req.headers.get("authorization") ?? "";
        const token = auth.startsWith("Bearer ") ? auth.slice(7) : "";
        const repo = /^\/v2\/(.+?)\/(?:blobs|manifests)\//.exec(url.pathname)?.[1];
        const readOnly = req.method === "GET" || req.method === "HEAD";
        const granted = tokens.get(token);
        const allowed =
          !!granted &&
          (!repo ||
            granted.includes(`repository:${repo}:pull,push`) ||
            (readOnly && granted.includes(`repository:${repo}:pull`)));
        if (!allowed) {
          log.status = 401;
          const scope = repo ? `,scope="repository:${repo}:${readOnly ? "pull" : "pull,push"}"` : "";
          return Response.json(
            { errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] },
            {
              status: 401,
              headers: { "www-authenticate": `Bearer realm="${self}/token",service="flightdeck-test"${scope}` },
            },
          );
        }
        headers.set("authorization", upstreamBasic);
      }
      const res = await fetch(`${opts.upstream}${url.pathname}${url.search}`, {
        method: req.method,
        headers,
        body,
        redirect: "manual",
      });
      log.status = res.status;
      const outHeaders = new Headers(res.headers);
      const location = outHeaders.get("location");
      if (location) outHeaders.set("location", location.replace(opts.upstream, self));
      if (opts.bearer && res.status === 401) outHeaders.delete("www-authenticate");
      outHeaders.delete("content-encoding");
      const data = req.method === "HEAD" ? null : await res.arrayBuffer();
      return new Response(data, { status: res.status, headers: outHeaders });
    },
  });
  const url = `http://127.0.0.1:${server.port}`;
  return {
    url,
    host: `127.0.0.1:${server.port}`,
    requests,
    tokenRequests,
    faults,
    uploadedBlobBytes: () =>
      requests
        .filter(
          (r) => (r.method === "PATCH" || r.method === "PUT") && r.path.includes("/blobs/uploads/") && r.status < 300,
        )
        .reduce((n, r) => n + r.bodyBytes, 0),
    reset() {
      requests.length = 0;
      tokenRequests.length = 0;
      faults.length = 0;
    },
    close: () => server.stop(true),
  };
}
