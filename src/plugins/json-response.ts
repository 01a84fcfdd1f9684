/**
 * The Response for the common case, a 200 with a JSON body, built on a prebuilt Headers object instead of by
 * Elysia from the context's header record. Elysia hands `set.headers` (a plain object) to Response.json, and
 * Bun converts and validates every entry again on every request: with the security headers, CORS's Vary and
 * the request id that is nine headers, which cost 1.15-1.25 us in process, more than the rest of a
 * /health/live request. Copying a prebuilt Headers object and setting the one or two values that change per
 * request costs 0.33-0.38 us (bench/plugins.ts and the micro-measurements in the issue 13 closing note).
 *
 * The result is exactly what Elysia would have sent: the template is only a starting point, every header in
 * `set.headers` whose value differs from it is set on the response, and when `set.headers` lacks one of the
 * template's headers (or carries cookies, a non-numeric status, anything unusual) Elysia's own path is used.
 * @module
 */

export interface ResponseSet {
  headers: Record<string, string | number>;
  status?: unknown;
  cookie?: unknown;
}

/** Builds a 200 JSON response from `usual` (the headers nearly every response carries), or undefined to let Elysia do it. */
export type JsonResponder = (value: unknown, set: ResponseSet) => Response | undefined;

const JSON_CONTENT_TYPE = "application/json;charset=utf-8";

export function jsonResponder(usual: Record<string, string>): JsonResponder {
  // Null prototypes: a header named like an Object.prototype member must not match anything here.
  const usualValues: Record<string, string> = Object.assign(Object.create(null), usual);
  const expected: Record<string, string> = Object.assign(Object.create(null), usual, { "content-type": JSON_CONTENT_TYPE });
  const template = new Headers(expected);
  const usualKeys = Object.keys(usualValues).length;

  return (value, set) => {
    if (set.status !== 200 || set.cookie !== undefined || value === null || typeof value !== "object") return undefined;
    const shape = value.constructor;
    if (shape !== Object && shape !== Array) return undefined;
    const headers = set.headers;
    let matched = 0;
    for (const key in headers) {
      const header = headers[key];
      if (typeof header !== "string" && typeof header !== "number") return undefined;
      if (header === usualValues[key]) matched++;
    }
    // A usual header missing (or changed) on this response: the template would send a header Elysia would not.
    if (matched < usualKeys || "set-cookie" in headers) return undefined;
    const response = new Response(JSON.stringify(value), { status: 200, headers: template });
    for (const key in headers) {
      const header = headers[key]!;
      if (header !== expected[key]) response.headers.set(key, String(header));
    }
    // Everything in set.headers is on the response now; an empty record makes Elysia send it as it is.
    set.headers = {};
    return response;
  };
}
