/**
 * The headers every response carries (security headers, CORS's Vary, the CSP) and the Response for the common
 * case, a 200 with a JSON body.
 *
 * The usual headers are not Elysia default headers: those are copied into every request's `set.headers` and
 * converted by Bun again for every response (nine headers cost 1.15-1.25 us of a /health/live request in
 * process, more than the rest of it). Instead, `json` builds a 200 JSON answer on a prebuilt Headers object and
 * sets only the values the request added (the request id, a CORS grant), 0.33-0.38 us; every other answer
 * (errors, other statuses, files, the docs page, early answers) gets the usual headers added to `set.headers`
 * by `complete`, where the route did not set its own, and Elysia builds it as usual; a Response the route
 * returned (a download, a 304, a replay) gets them put on it by `onto`, because Elysia copies a Response into a
 * new one, headers merged, whenever `set` holds anything (about 3 us of a 64 KiB download's user CPU, interleaved
 * A/B). A header a route set, in `set.headers` or on a Response it returned, wins over the usual one either way.
 * @module
 */

export interface ResponseSet {
  headers: Record<string, string | number>;
  status?: unknown;
  cookie?: unknown;
}

export interface Responder {
  /** The usual headers for a path (the few paths with their own, e.g. the docs page's CSP, differ). */
  headersFor(path: string): Record<string, string>;
  /** A 200 JSON answer built on the usual headers, or undefined: then `complete`, and Elysia builds it. */
  json(value: unknown, set: ResponseSet, path: string): Response | undefined;
  /** Adds to `set.headers` every usual header the route did not set itself. */
  complete(set: ResponseSet, path: string): void;
  /**
   * For a Response the route returned: puts `set.headers` and the usual headers on it (where it has none of
   * its own) and empties `set`, so Elysia sends it as it is instead of copying it into a new Response with
   * merged headers. False when it cannot (a cookie to send, immutable headers): then `complete`.
   */
  onto(response: Response, set: ResponseSet, path: string): boolean;
  /**
   * The one entry point for the last hook before Elysia builds a response: whichever of `json`, `onto` and
   * `complete` fits `value`. Returns the Response to send, or undefined: then Elysia maps `value` as usual.
   */
  finish(value: unknown, set: ResponseSet, path: string): Response | undefined;
}

const JSON_CONTENT_TYPE = "application/json;charset=utf-8";

/** `usual` goes on every response; `byPath` replaces some of it on the paths it names. */
export function createResponder(
  usual: Record<string, string>,
  byPath: Record<string, Record<string, string>> = {},
): Responder {
  // Null prototypes: a header named like an Object.prototype member must not match anything here.
  const template: Record<string, string> = Object.assign(Object.create(null), usual, {
    "content-type": JSON_CONTENT_TYPE,
  });
  const templateHeaders = new Headers(template);
  const special = new Map(Object.entries(byPath).map(([path, headers]) => [path, { ...usual, ...headers }]));
  const headersFor = (path: string) => special.get(path) ?? usual;

  const responder: Responder = {
    headersFor,
    json(value, set, path) {
      if (
        set.status !== 200 ||
        set.cookie !== undefined ||
        value === null ||
        typeof value !== "object" ||
        special.has(path)
      )
        return undefined;
      const shape = value.constructor;
      if (shape !== Object && shape !== Array) return undefined;
      const headers = set.headers;
      for (const key in headers) {
        const header = headers[key];
        if (typeof header !== "string" && typeof header !== "number") return undefined;
      }
      if ("set-cookie" in headers) return undefined;
      const response = new Response(JSON.stringify(value), { status: 200, headers: templateHeaders });
      for (const key in headers) {
        const header = headers[key]!;
        if (header !== template[key]) response.headers.set(key, String(header));
      }
      // Everything in set.headers is on the response now; an empty record makes Elysia send it as it is.
      set.headers = {};
      return response;
    },
    onto(response, set, path) {
      if (set.cookie !== undefined) return false;
      const headers = response.headers;
      try {
        const added = set.headers;
        for (const key in added) if (!headers.has(key)) headers.set(key, String(added[key]));
        const usualHere = headersFor(path);
        for (const key in usualHere) if (!headers.has(key)) headers.set(key, usualHere[key]!);
      } catch {
        // Immutable headers (a fetched or redirect Response): Elysia merges them into a new Response.
        return false;
      }
      set.headers = {};
      // Elysia passes a Response on untouched only when `set` asks for nothing; its own status is what is sent.
      set.status = 200;
      return true;
    },
    complete(set, path) {
      const usualHere = headersFor(path);
      const headers = set.headers;
      for (const key in usualHere) if (!(key in headers)) headers[key] = usualHere[key]!;
    },
    finish(value, set, path) {
      if (value instanceof Response) {
        if (responder.onto(value, set, path)) return value;
        responder.complete(set, path);
        return undefined;
      }
      const built = responder.json(value, set, path);
      if (built === undefined) responder.complete(set, path);
      return built;
    },
  };
  return responder;
}
