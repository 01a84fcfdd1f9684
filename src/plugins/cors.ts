/**
 * CORS from ALLOWED_ORIGINS (https://fetch.spec.whatwg.org/#http-cors-protocol). Only listed origins get
 * Access-Control-Allow-Origin; `*` (refused in production by lib/config.ts) allows any origin without
 * credentials. Credentials stay off: the API authenticates with bearer tokens, never cookies.
 *
 * Departure from DESIGN.md (@elysiajs/cors), measured: that plugin's hook is awaited on every request (Elysia
 * reads it as async), adds its allow/expose headers to every response and rebuilt the methods list per
 * request; it cost 2 us of a /health/live request that bare Elysia answers in about 1 us in process
 * (bench/plugins.ts). This hook is synchronous and touches only requests that carry an Origin.
 * @module
 */
import { Elysia } from "elysia";
import { type HookContext, pathOf } from "./request-context.ts";

const METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";
// The conditional-request headers (RFC 9110 section 13.1) are not CORS-safelisted: a browser asks first.
const ALLOWED_HEADERS = "authorization, content-type, if-match, if-none-match, if-range, range, x-request-id";
const EXPOSED_HEADERS =
  "etag, content-range, location, retry-after, ratelimit-limit, ratelimit-remaining, ratelimit-reset, x-request-id";
const MAX_AGE_S = "600";

/** Headers for every response: which origin is granted depends on the request's Origin, so caches must key on it. */
export function corsUsualHeaders(allowedOrigins: string[]): Record<string, string> {
  return allowedOrigins.includes("*") ? {} : { vary: "Origin" };
}

/** `usualHeaders` gives the headers every response carries: a preflight answered here gets them too. */
export function cors(allowedOrigins: string[], usualHeaders: (path: string) => Record<string, string> = () => ({})) {
  const anyOrigin = allowedOrigins.includes("*");
  const listed = new Set(allowedOrigins);
  const grantFor = (origin: string | null): string | undefined =>
    origin === null ? undefined : anyOrigin ? "*" : listed.has(origin) ? origin : undefined;

  /** A preflight is answered here, 204, with the grant only for an allowed origin. */
  const preflight = (granted: string | undefined, path: string): Response => {
    const grant: Record<string, string> =
      granted === undefined
        ? {}
        : {
            "access-control-allow-origin": granted,
            "access-control-allow-methods": METHODS,
            "access-control-allow-headers": ALLOWED_HEADERS,
            "access-control-max-age": MAX_AGE_S,
          };
    const headers: Record<string, string> = { ...usualHeaders(path), ...grant };
    return new Response(null, { status: 204, headers });
  };

  return (
    new Elysia({ name: "cors" })
      // Shaped so no `return` is followed by a call: Elysia treats such a hook as async and awaits it on every
      // request (see HookContext).
      .onRequest(function cors({ request, path, set }: HookContext) {
        const granted = grantFor(request.headers.get("origin"));
        let answer: Response | undefined;
        if (request.method === "OPTIONS") answer = preflight(granted, pathOf(request, path));
        else if (granted !== undefined) {
          set.headers["access-control-allow-origin"] = granted;
          set.headers["access-control-expose-headers"] = EXPOSED_HEADERS;
        }
        return answer;
      })
  );
}
