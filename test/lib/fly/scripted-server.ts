// A small real HTTP server for client edge cases the stateful fake does not script: each request is answered
// by the handler, which sees how many requests came before. Records what arrived (method, path, headers).

export interface Received {
  method: string;
  path: string;
  query: string;
  headers: Headers;
  body: string;
  at: number;
}

export interface ScriptedServer {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

export function scriptedServer(
  handler: (request: Request, index: number) => Response | Promise<Response>,
): ScriptedServer {
  const received: Received[] = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 0,
    async fetch(request) {
      const url = new URL(request.url);
      const body = await request.text();
      received.push({
        method: request.method,
        path: url.pathname,
        query: url.search,
        headers: request.headers,
        body,
        at: Date.now(),
      });
      return handler(request, received.length - 1);
    },
  });
  return { url: server.url.origin, received, close: () => server.stop(true) };
}

export function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

/** Closes the connection without a status line (the client sees ECONNRESET). */
export function drop(): Response {
  return new Response(new ReadableStream({ start: (controller) => controller.error(undefined) }));
}

/** Fast retry settings so tests do not sleep for real backoff. */
export const FAST_RETRY = { baseDelayMs: 5, maxDelayMs: 20, rateLimitDelayMs: 5, maxRetryAfterMs: 5_000 };
